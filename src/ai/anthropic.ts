/**
 * ChatModel on the official @anthropic-ai/sdk Messages API. Anthropic's protocol is stricter than Chat
 * Completions: system text is a parameter, turns must alternate, the first turn must be the user's, and
 * max_tokens is required. The conversion below makes any context we hold acceptable.
 */
import Anthropic from '@anthropic-ai/sdk';
import type {
  Base64ImageSource,
  ContentBlockParam,
  MessageParam,
} from '@anthropic-ai/sdk/resources/messages';
import { AppError } from '../domain/errors.js';
import { leanFetch } from '../infra/lean-fetch.js';
import type { ChatImage } from '../domain/types.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall } from '../ports.js';
import { withDeadline } from './deadline.js';
import type { AiErrorContext } from './errors.js';

export interface AnthropicOptions {
  apiKey: string;
  model: string;
  baseUrl: string | undefined;
  timeoutMs: number;
  temperature?: number;
  maxTokens?: number;
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Anthropic requires max_tokens; used when neither the request nor the settings give one. */
const FALLBACK_MAX_TOKENS = 1024;

export function createAnthropicModel(options: AnthropicOptions): ChatModel {
  const { model } = options;
  const client = new Anthropic({
    apiKey: options.apiKey,
    // Explicit, so ANTHROPIC_BASE_URL in the environment cannot redirect requests behind the config's back.
    baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
    // Our queue retries with backoff; SDK retries inside that would multiply the time a job can take.
    maxRetries: 0,
    timeout: options.timeoutMs,
    // Half the CPU of the platform's fetch per call (src/infra/http-client.ts).
    fetch: leanFetch,
    webhookKey: null,
  });
  const context: AiErrorContext = {
    provider: 'anthropic',
    timeoutMs: options.timeoutMs,
    secrets: [options.apiKey],
  };

  async function complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const { system, messages } = toAnthropicConversation(request.messages);
    if (messages.length === 0) {
      throw new AppError('ai_bad_request', 'anthropic: the context holds no user message to answer', {
        code: 'no_user_message',
      });
    }
    const temperature = request.temperature ?? options.temperature;
    const response = await withDeadline(context, signal, (callSignal) =>
      client.messages.create(
        {
          model,
          messages,
          max_tokens: request.maxTokens ?? options.maxTokens ?? FALLBACK_MAX_TOKENS,
          ...(system === '' ? {} : { system }),
          ...(temperature === undefined ? {} : { temperature }),
          ...(request.tools && request.tools.length > 0
            ? {
                tools: request.tools.map((tool) => ({
                  name: tool.name,
                  description: tool.description,
                  input_schema: { ...tool.parameters, type: 'object' as const },
                })),
              }
            : {}),
        },
        { signal: callSignal },
      ),
    );
    // Only text blocks are an answer; thinking or tool blocks are not for the user.
    const text = response.content
      .map((block) => (block.type === 'text' ? block.text : ''))
      .join('')
      .trim();
    const toolCalls = response.content.flatMap((block): ToolCall[] =>
      block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: asObject(block.input) }] : [],
    );
    if (text === '' && toolCalls.length === 0) {
      throw new AppError(
        'ai_unavailable',
        `anthropic: empty answer from ${model} (stop_reason: ${response.stop_reason ?? 'none'})`,
        {
          code: 'empty_response',
        },
      );
    }
    return {
      text,
      model: response.model || model,
      usage: { inputTokens: response.usage.input_tokens, outputTokens: response.usage.output_tokens },
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  }

  return { provider: 'anthropic', model, supportsTools: true, complete };
}

/** A tool_use block's `input` is the arguments object; anything else is treated as no arguments. */
function asObject(input: unknown): Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : {};
}

/** System turns → one system string; same-role neighbours merged; leading assistant turns dropped. */
function toAnthropicConversation(turns: readonly ChatMessage[]): {
  system: string;
  messages: MessageParam[];
} {
  const system: string[] = [];
  const messages: Array<{ role: 'user' | 'assistant'; content: string | ContentBlockParam[] }> = [];
  for (const turn of turns) {
    if (turn.role === 'system') {
      system.push(turn.content);
      continue;
    }
    if (messages.length === 0 && turn.role === 'assistant') continue;
    const content =
      turn.images && turn.images.length > 0 ? withImageBlocks(turn.content, turn.images) : turn.content;
    const previous = messages.at(-1);
    if (previous?.role === turn.role) previous.content = merged(previous.content, content);
    else messages.push({ role: turn.role, content });
  }
  return { system: system.join('\n\n'), messages };
}

/**
 * Two turns of one role as one. Strings stay a string (the text-only wire bytes are unchanged); once a turn has
 * images, both become blocks, in order.
 */
function merged(
  earlier: string | ContentBlockParam[],
  later: string | ContentBlockParam[],
): string | ContentBlockParam[] {
  if (typeof earlier === 'string' && typeof later === 'string') return `${earlier}\n\n${later}`;
  return [...asBlocks(earlier), ...asBlocks(later)];
}

function asBlocks(content: string | ContentBlockParam[]): ContentBlockParam[] {
  if (typeof content !== 'string') return content;
  return content === '' ? [] : [{ type: 'text', text: content }];
}

/** Anthropic reads images best before the text about them: the images, then the caption (or text rendering). */
function withImageBlocks(text: string, images: readonly ChatImage[]): ContentBlockParam[] {
  return [
    ...images.map((image): ContentBlockParam => ({
      type: 'image',
      source: {
        type: 'base64',
        // The media stage hands over JPEG, PNG, GIF or WebP, the four Anthropic reads; anything else, the API
        // refuses with a 400 that names the type (ai_bad_request), rather than this adapter guessing.
        media_type: image.contentType as Base64ImageSource['media_type'],
        data: image.base64,
      },
    })),
    ...asBlocks(text),
  ];
}
