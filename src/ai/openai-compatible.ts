/**
 * ChatModel on the official openai SDK, for every server that speaks the Chat Completions protocol: OpenAI,
 * OpenRouter, and local ones (Ollama, vLLM, LM Studio) through a base URL.
 */
import OpenAI from 'openai';
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources';
import { AppError } from '../domain/errors.js';
import { leanFetch } from '../infra/lean-fetch.js';
import type { ChatImage } from '../domain/types.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall } from '../ports.js';
import { withDeadline } from './deadline.js';
import type { AiErrorContext } from './errors.js';

export interface OpenAiCompatibleOptions {
  provider: 'openai' | 'openrouter' | 'openai-compatible';
  apiKey: string | undefined;
  model: string;
  baseUrl: string | undefined;
  timeoutMs: number;
  temperature?: number;
  maxTokens?: number;
  /** Public URL of this deployment; OpenRouter shows it as the calling app. */
  appUrl?: string;
}

const PROJECT_NAME = 'whatsapp-ai-chatbot';

const DEFAULT_BASE_URL = {
  openai: 'https://api.openai.com/v1',
  openrouter: 'https://openrouter.ai/api/v1',
} as const;

/** Local servers such as Ollama ignore the key, but the SDK refuses to start without one. */
const PLACEHOLDER_KEY = 'no-key-configured';

export function createOpenAiCompatibleModel(options: OpenAiCompatibleOptions): ChatModel {
  const { provider, model } = options;
  const client = createClient(options);
  const context: AiErrorContext = {
    provider,
    timeoutMs: options.timeoutMs,
    secrets: options.apiKey ? [options.apiKey] : [],
  };

  async function complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: request.messages.map(toOpenAiMessage),
      temperature: request.temperature ?? options.temperature,
    };
    if (request.tools && request.tools.length > 0) {
      body.tools = request.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }));
    }
    const maxTokens = request.maxTokens ?? options.maxTokens;
    // OpenAI deprecated max_tokens and its newer models reject it; OpenRouter, Ollama and vLLM read max_tokens.
    if (provider === 'openai') body.max_completion_tokens = maxTokens;
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the field those servers read
    else body.max_tokens = maxTokens;

    const completion = await withDeadline(context, signal, (callSignal) =>
      client.chat.completions.create(body, { signal: callSignal }),
    );
    const choice = completion.choices[0];
    const text = choice?.message.content?.trim() ?? '';
    const toolCalls = (choice?.message.tool_calls ?? []).flatMap(toToolCall);
    if (text === '' && toolCalls.length === 0) {
      // Seen with overloaded free models on OpenRouter; another try usually answers.
      const reason = choice?.finish_reason ?? 'no choices';
      throw new AppError(
        'ai_unavailable',
        `${provider}: empty answer from ${model} (finish_reason: ${reason})`,
        {
          code: 'empty_response',
        },
      );
    }
    return {
      text,
      model: completion.model || model,
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  }

  return { provider, model, supportsTools: true, complete };
}

/**
 * A function call as the port carries it. `arguments` is a JSON string the model wrote: one that does not parse
 * (models do produce that) becomes `{}` rather than failing the whole answer; the tool's handler decides.
 */
function toToolCall(call: ChatCompletionMessageToolCall): ToolCall[] {
  if (call.type !== 'function') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.function.arguments || '{}');
  } catch {
    parsed = {};
  }
  const args =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  return [{ id: call.id, name: call.function.name, arguments: args }];
}

function createClient(options: OpenAiCompatibleOptions): OpenAI {
  const baseURL = options.baseUrl ?? defaultBaseUrl(options.provider);
  return new OpenAI({
    apiKey: options.apiKey ?? PLACEHOLDER_KEY,
    baseURL,
    // Our queue retries with backoff; SDK retries inside that would multiply the time a job can take.
    maxRetries: 0,
    timeout: options.timeoutMs,
    // Half the CPU of the platform's fetch per call (src/infra/http-client.ts).
    fetch: leanFetch,
    // Explicit nulls so the SDK does not pick up OPENAI_* variables behind the config's back.
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    defaultHeaders:
      options.provider === 'openrouter'
        ? { 'HTTP-Referer': options.appUrl ?? PROJECT_NAME, 'X-Title': PROJECT_NAME }
        : undefined,
  });
}

function defaultBaseUrl(provider: OpenAiCompatibleOptions['provider']): string {
  if (provider === 'openai-compatible') {
    throw new AppError('config', 'AI_BASE_URL is required for an OpenAI-compatible server (e.g. Ollama)');
  }
  return DEFAULT_BASE_URL[provider];
}

function toOpenAiMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      // A plain string unless images ride along: the wire bytes of a text-only turn stay exactly as before.
      return message.images && message.images.length > 0
        ? { role: 'user', content: withImageParts(message.content, message.images) }
        : { role: 'user', content: message.content };
    case 'assistant':
      return { role: 'assistant', content: message.content };
  }
}

/** The caption (or the turn's text rendering) first, then each image as a base64 data URL (Chat Completions' form). */
function withImageParts(text: string, images: readonly ChatImage[]): ChatCompletionContentPart[] {
  return [
    ...(text === '' ? [] : [{ type: 'text' as const, text }]),
    ...images.map((image) => ({
      type: 'image_url' as const,
      image_url: { url: `data:${image.contentType};base64,${image.base64}` },
    })),
  ];
}
