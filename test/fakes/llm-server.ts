/**
 * A local LLM server speaking both wire protocols the real SDKs use: OpenAI Chat Completions
 * (POST /v1/chat/completions) and Anthropic Messages (POST /v1/messages). It records every request and lets a
 * test script the answers: slow, failing (429 + Retry-After, 401, 500…), long, or empty.
 *
 *   const llm = await startFakeLlm();
 *   createOpenAiCompatibleModel({ provider: 'openai-compatible', baseUrl: llm.openaiBaseUrl, … });
 *   createAnthropicModel({ baseUrl: llm.anthropicBaseUrl, … });
 *   llm.respondOnce({ status: 429, headers: { 'retry-after': '7' } });  // next call only
 *   llm.respond((req) => ({ text: `echo ${req.messages.length}` }));    // every call after the queued ones
 *   llm.respondOnce({ toolCalls: [{ name: 'handoff', arguments: { reason: 'angry' } }] });  // a tool call
 *   llm.requests;  // what the SDKs sent (with the tools offered, in one shape for both protocols)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveTranscription, type FakeTranscription, type TranscriptionAnswer } from './transcriptions.js';

export type FakeProtocol = 'openai' | 'anthropic';

export interface FakeRequest {
  protocol: FakeProtocol;
  model: string;
  /**
   * Content flattened to text (content blocks' text joined); `images` only on a message that carried some
   * (OpenAI `image_url` data URLs and Anthropic base64 `image` blocks, in the order sent).
   */
  messages: Array<{ role: string; content: string; images?: FakeImage[] }>;
  /** Anthropic's `system` parameter, flattened to text. */
  system?: string;
  /** Tools offered, from either protocol's shape (`tools[].function` or `tools[].input_schema`). */
  tools: Array<{ name: string; description: string; parameters: unknown }>;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: unknown;
}

/** An image a message carried, decoded from either protocol's shape. */
export interface FakeImage {
  contentType: string;
  base64: string;
}

/** A tool call to answer with, written in the protocol's own wire format. */
export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
  /** OpenAI only: the raw `function.arguments` string instead of `arguments` serialised (e.g. broken JSON). */
  rawArguments?: string;
}

export interface FakeReply {
  /** The answer; defaults to `fake reply to: <last user content>`, or to no text at all with `toolCalls`. */
  text?: string;
  /**
   * Answer with these tool calls: OpenAI `message.tool_calls` (`function.arguments` a JSON string,
   * finish_reason `tool_calls`), Anthropic `tool_use` content blocks (stop_reason `tool_use`).
   */
  toolCalls?: FakeToolCall[];
  /** Wait this long before answering (the answer is dropped if the client goes away first). */
  delayMs?: number;
  /** Send the status and headers at once but hold the body back this long (a stall mid-response). */
  bodyDelayMs?: number;
  /** HTTP status; 400 and above answer with the protocol's error body. */
  status?: number;
  headers?: Record<string, string>;
  /** Message of the error body when status >= 400. */
  errorMessage?: string;
  /** Error `code` (OpenAI) or `type` (Anthropic) of the error body; a per-status default otherwise. */
  errorCode?: string;
  /** Token counts to report; null leaves `usage` out (as some local servers do). Word counts by default. */
  usage?: { input: number; output: number } | null;
  /** Model the response reports; the requested one by default. */
  model?: string;
  /** Anthropic only: raw content blocks instead of one text block built from `text`. */
  anthropicContent?: unknown[];
}

export type FakeHandler = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeLlm {
  /** For the openai SDK's baseURL: `http://127.0.0.1:<port>/v1`. */
  openaiBaseUrl: string;
  /** For the Anthropic SDK's baseURL (it appends /v1/messages): `http://127.0.0.1:<port>`. */
  anthropicBaseUrl: string;
  /** Every request received, oldest first, including those answered with an error. */
  readonly requests: FakeRequest[];
  /** Every `POST /v1/audio/transcriptions` (voice notes), oldest first. */
  readonly transcriptions: FakeTranscription[];
  /** What the transcription endpoint answers from now on. */
  transcribeAs(answer: TranscriptionAnswer): void;
  /** Answer every request (after any queued respondOnce replies) with this handler. */
  respond(handler: FakeHandler): void;
  /** Answer the next request with this; several calls queue in order. */
  respondOnce(reply: FakeReply | FakeHandler): void;
  /** Forget recorded requests, queued replies and the handler. */
  reset(): void;
  /** Stop, dropping connections that wait on a delayed reply. */
  close(): Promise<void>;
}

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Forbidden.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request.',
  },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded.' },
};

const ANTHROPIC_ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  404: { type: 'not_found_error', message: 'model: not found' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: {
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

export async function startFakeLlm(): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  const transcriptions: FakeTranscription[] = [];
  let transcriptionAnswer: TranscriptionAnswer = { text: 'transcribed words', seconds: 3 };
  const queued: Array<FakeReply | FakeHandler> = [];
  let handler: FakeHandler | undefined;
  let counter = 0;
  const closing = new AbortController();

  const server = http.createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, { error: { message: String(error), type: 'server_error', code: null } });
    });
  });

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      await serveTranscription(req, res, transcriptions, transcriptionAnswer);
      return;
    }
    const protocol: FakeProtocol | undefined =
      req.method === 'POST' && path === '/v1/chat/completions'
        ? 'openai'
        : req.method === 'POST' && path === '/v1/messages'
          ? 'anthropic'
          : undefined;
    const raw = await readBody(req);
    if (!protocol) {
      send(res, 404, {
        error: { message: `Unknown route ${req.method ?? ''} ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      sendError(res, protocol, 400, {}, 'Body is not valid JSON.');
      return;
    }
    const request = parseRequest(protocol, body, req.headers);
    requests.push(request);

    const next = queued.shift() ?? handler;
    const reply: FakeReply =
      next === undefined ? {} : typeof next === 'function' ? await next(request) : next;
    if (reply.delayMs !== undefined && reply.delayMs > 0) {
      // The client may have given up (its timeout) or the server may be closing: then nobody reads an answer.
      if (!(await sleep(reply.delayMs, res))) return;
    }
    const status = reply.status ?? 200;
    if (status >= 400) {
      sendError(res, protocol, status, reply.headers ?? {}, reply.errorMessage, reply.errorCode);
      return;
    }
    counter += 1;
    const toolCalls = reply.toolCalls ?? [];
    const text = reply.text ?? (toolCalls.length > 0 ? '' : `fake reply to: ${lastUserContent(request)}`);
    const usage =
      reply.usage === undefined
        ? {
            input: countWords([request.system ?? '', ...request.messages.map((m) => m.content)].join(' ')),
            output: countWords(text),
          }
        : reply.usage;
    const model = reply.model ?? request.model;
    const payload =
      protocol === 'openai'
        ? openAiCompletion(counter, model, text, usage, toolCalls)
        : anthropicMessage(
            counter,
            model,
            reply.anthropicContent ?? [
              ...(text === '' ? [] : [{ type: 'text', text }]),
              ...toolCalls.map((call, i) => ({
                type: 'tool_use',
                id: `toolu_fake${counter}_${i}`,
                name: call.name,
                input: call.arguments,
              })),
            ],
            usage,
            toolCalls.length > 0 ? 'tool_use' : 'end_turn',
          );
    const idHeader = protocol === 'openai' ? 'x-request-id' : 'request-id';
    const headers = { [idHeader]: `req_fake_${counter}`, ...reply.headers };
    if (reply.bodyDelayMs !== undefined && reply.bodyDelayMs > 0) {
      await sendSlowly(res, status, payload, headers, reply.bodyDelayMs);
      return;
    }
    send(res, status, payload, headers);
  }

  /** Headers and the start of the body now, the rest later: a server that stalls mid-answer. */
  async function sendSlowly(
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    headers: Record<string, string>,
    delayMs: number,
  ): Promise<void> {
    const body = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.write(body.slice(0, 1));
    if (await sleep(delayMs, res)) res.end(body.slice(1));
  }

  /** True after `ms`; false as soon as the client disconnects or the server closes. */
  function sleep(ms: number, res: http.ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (elapsed: boolean) => {
        clearTimeout(timer);
        res.off('close', interrupted);
        closing.signal.removeEventListener('abort', interrupted);
        resolve(elapsed);
      };
      const interrupted = () => {
        finish(false);
      };
      const timer = setTimeout(() => {
        finish(true);
      }, ms);
      res.once('close', interrupted);
      closing.signal.addEventListener('abort', interrupted, { once: true });
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    openaiBaseUrl: `${origin}/v1`,
    anthropicBaseUrl: origin,
    requests,
    transcriptions,
    transcribeAs(answer) {
      transcriptionAnswer = answer;
    },
    respond(next) {
      handler = next;
    },
    respondOnce(reply) {
      queued.push(reply);
    },
    reset() {
      requests.length = 0;
      transcriptions.length = 0;
      queued.length = 0;
      handler = undefined;
    },
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        }),
      );
    },
  };
}

function parseRequest(
  protocol: FakeProtocol,
  body: unknown,
  rawHeaders: http.IncomingHttpHeaders,
): FakeRequest {
  const record = isRecord(body) ? body : {};
  const messages = Array.isArray(record.messages) ? record.messages : [];
  const request: FakeRequest = {
    protocol,
    model: typeof record.model === 'string' ? record.model : '',
    messages: messages.map((message: unknown) => {
      const entry = isRecord(message) ? message : {};
      const images = imagesOf(entry.content);
      return {
        role: typeof entry.role === 'string' ? entry.role : '',
        content: flatten(entry.content),
        ...(images.length > 0 ? { images } : {}),
      };
    }),
    tools: (Array.isArray(record.tools) ? record.tools : []).map((tool: unknown) => {
      const entry = isRecord(tool) ? tool : {};
      // OpenAI: { type: 'function', function: { name, description, parameters } }; Anthropic: { name, input_schema }.
      const fn = isRecord(entry.function) ? entry.function : entry;
      return {
        name: typeof fn.name === 'string' ? fn.name : '',
        description: typeof fn.description === 'string' ? fn.description : '',
        parameters: fn.parameters ?? entry.input_schema,
      };
    }),
    headers: Object.fromEntries(
      Object.entries(rawHeaders).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    ),
    body,
  };
  if (protocol === 'anthropic' && record.system !== undefined) request.system = flatten(record.system);
  return request;
}

/** A string, or content blocks of which the text ones count. */
function flatten(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: unknown) => (isRecord(block) && typeof block.text === 'string' ? block.text : ''))
    .join('');
}

/** OpenAI `{type:'image_url', image_url:{url:'data:…;base64,…'}}` and Anthropic `{type:'image', source:{…}}`. */
function imagesOf(content: unknown): FakeImage[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap((block: unknown): FakeImage[] => {
    if (!isRecord(block)) return [];
    if (block.type === 'image_url' && isRecord(block.image_url) && typeof block.image_url.url === 'string') {
      const match = /^data:([^;,]+);base64,(.*)$/s.exec(block.image_url.url);
      return match ? [{ contentType: match[1] ?? '', base64: match[2] ?? '' }] : [];
    }
    if (block.type === 'image' && isRecord(block.source) && block.source.type === 'base64') {
      const { media_type: contentType, data } = block.source;
      return typeof contentType === 'string' && typeof data === 'string'
        ? [{ contentType, base64: data }]
        : [];
    }
    return [];
  });
}

function lastUserContent(request: FakeRequest): string {
  return request.messages.findLast((message) => message.role === 'user')?.content ?? '';
}

function openAiCompletion(
  n: number,
  model: string,
  text: string,
  usage: { input: number; output: number } | null,
  toolCalls: FakeToolCall[] = [],
) {
  return {
    id: `chatcmpl-fake${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0
            ? {
                tool_calls: toolCalls.map((call, i) => ({
                  id: `call_fake${n}_${i}`,
                  type: 'function',
                  function: {
                    name: call.name,
                    arguments: call.rawArguments ?? JSON.stringify(call.arguments),
                  },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    ...(usage === null
      ? {}
      : {
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
        }),
    system_fingerprint: null,
  };
}

function anthropicMessage(
  n: number,
  model: string,
  content: unknown[],
  usage: { input: number; output: number } | null,
  stopReason = 'end_turn',
) {
  return {
    id: `msg_fake${n}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: usage?.input ?? 0, output_tokens: usage?.output ?? 0 },
  };
}

function sendError(
  res: http.ServerResponse,
  protocol: FakeProtocol,
  status: number,
  headers: Record<string, string>,
  message?: string,
  code?: string,
): void {
  if (protocol === 'openai') {
    const known = OPENAI_ERRORS[status] ?? { type: 'server_error', code: null, message: `Error ${status}.` };
    const error = {
      message: message ?? known.message,
      type: known.type,
      param: null,
      code: code ?? known.code,
    };
    send(res, status, { error }, { 'x-request-id': 'req_fake_error', ...headers });
    return;
  }
  const known = ANTHROPIC_ERRORS[status] ?? { type: 'api_error', message: `Error ${status}.` };
  const error = { type: code ?? known.type, message: message ?? known.message };
  send(res, status, { type: 'error', error }, { 'request-id': 'req_fake_error', ...headers });
}

function send(
  res: http.ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
