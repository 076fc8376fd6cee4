import net from 'node:net';
import * as OpenAi from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../src/ai/anthropic.js';
import { parseRetryAfter, toAiError } from '../../src/ai/errors.js';
import { createOpenAiCompatibleModel } from '../../src/ai/openai-compatible.js';
import { AppError, type ErrorKind } from '../../src/domain/errors.js';
import type { ChatModel } from '../../src/ports.js';
import { startFakeLlm, type FakeLlm, type FakeReply } from '../fakes/llm-server.js';
import { catchAppError } from './catch-app-error.js';

let llm: FakeLlm;
let closedPortOrigin: string;

beforeAll(async () => {
  llm = await startFakeLlm();
  closedPortOrigin = await originOfAClosedPort();
});
afterAll(async () => {
  await llm.close();
});
beforeEach(() => {
  llm.reset();
});

/** A port that was just listened on and closed: connecting to it is refused. */
async function originOfAClosedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return `http://127.0.0.1:${port}`;
}

/** Not shaped like any provider's key, so only exact-value scrubbing can catch it. */
const SECRET_KEY = 'LEAKCHECK-0f9e8d7c6b5a4';

const protocols: Array<{
  name: 'openai' | 'anthropic';
  make: (origin?: string, timeoutMs?: number) => ChatModel;
}> = [
  {
    name: 'openai',
    make: (origin, timeoutMs = 5000) =>
      createOpenAiCompatibleModel({
        provider: 'openai',
        apiKey: SECRET_KEY,
        model: 'gpt-4o-mini',
        baseUrl: origin ? `${origin}/v1` : llm.openaiBaseUrl,
        timeoutMs,
      }),
  },
  {
    name: 'anthropic',
    make: (origin, timeoutMs = 5000) =>
      createAnthropicModel({
        apiKey: SECRET_KEY,
        model: 'claude-sonnet-4-6',
        baseUrl: origin ?? llm.anthropicBaseUrl,
        timeoutMs,
      }),
  },
];

const ask = { messages: [{ role: 'user' as const, content: 'Hello' }] };

interface StatusCase {
  reply: FakeReply;
  kind: ErrorKind;
  retryable: boolean;
  retryAfterSeconds?: number;
}

const statusCases: Record<string, StatusCase> = {
  '429 with Retry-After: 7': {
    reply: { status: 429, headers: { 'retry-after': '7' } },
    kind: 'ai_rate_limited',
    retryable: true,
    retryAfterSeconds: 7,
  },
  '429 with retry-after-ms: 1500': {
    reply: { status: 429, headers: { 'retry-after-ms': '1500' } },
    kind: 'ai_rate_limited',
    retryable: true,
    retryAfterSeconds: 2,
  },
  '429 without Retry-After': { reply: { status: 429 }, kind: 'ai_rate_limited', retryable: true },
  '401': { reply: { status: 401 }, kind: 'ai_auth', retryable: false },
  '403': { reply: { status: 403 }, kind: 'ai_auth', retryable: false },
  '400': { reply: { status: 400 }, kind: 'ai_bad_request', retryable: false },
  '404': { reply: { status: 404 }, kind: 'ai_bad_request', retryable: false },
  '422': { reply: { status: 422 }, kind: 'ai_bad_request', retryable: false },
  '408': { reply: { status: 408 }, kind: 'ai_unavailable', retryable: true },
  '409': { reply: { status: 409 }, kind: 'ai_unavailable', retryable: true },
  '500': { reply: { status: 500 }, kind: 'ai_unavailable', retryable: true },
  '503': { reply: { status: 503 }, kind: 'ai_unavailable', retryable: true },
  '529': { reply: { status: 529 }, kind: 'ai_unavailable', retryable: true },
};

describe.each(protocols)('$name errors become AppErrors', ({ name, make }) => {
  it.each(Object.entries(statusCases))('HTTP %s', async (_label, testCase) => {
    llm.respondOnce(testCase.reply);

    const error = await catchAppError(make().complete(ask));

    expect(error.kind).toBe(testCase.kind);
    expect(error.retryable).toBe(testCase.retryable);
    expect(error.retryAfterSeconds).toBe(testCase.retryAfterSeconds);
    expect(error.message).toContain(`${name}: HTTP ${testCase.reply.status}`);
    expect(llm.requests).toHaveLength(1); // maxRetries 0: our queue does the retrying
  });

  it("keeps the provider's error code", async () => {
    llm.respondOnce({ status: 401 });

    const error = await catchAppError(make().complete(ask));

    expect(error.code).toBe(name === 'openai' ? 'invalid_api_key' : 'authentication_error');
  });

  it('says that a 404 usually means an unknown model', async () => {
    llm.respondOnce({ status: 404 });

    const error = await catchAppError(make().complete(ask));

    expect(error.message).toMatch(/model/i);
  });

  it('times out when the answer takes longer than timeoutMs', async () => {
    llm.respondOnce({ delayMs: 10_000 });

    const error = await catchAppError(make(undefined, 200).complete(ask));

    expect(error.kind).toBe('ai_timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('200 ms');
  });

  it('times out when the body stalls after the headers arrived', async () => {
    llm.respondOnce({ bodyDelayMs: 10_000 });

    const error = await catchAppError(make(undefined, 200).complete(ask));

    expect(error.kind).toBe('ai_timeout');
    expect(error.retryable).toBe(true);
  });

  it('reports a refused connection as a retryable ai_unavailable', async () => {
    const error = await catchAppError(make(closedPortOrigin).complete(ask));

    expect(error.kind).toBe('ai_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe.each(protocols)('$name errors never carry the API key', ({ make }) => {
  // The fake echoes the credential back in the error body, as some providers do in their 401 messages.
  const echoKey = (status: number) => () => {
    const sent = llm.requests.at(-1)!.headers;
    const key = (sent.authorization ?? sent['x-api-key'] ?? '').replace(/^Bearer /, '');
    return { status, errorMessage: `Incorrect API key provided: ${key}` };
  };

  it.each([400, 401, 403, 404, 422, 429, 500, 503])('HTTP %i', async (status) => {
    llm.respondOnce(echoKey(status));

    const error = await catchAppError(make().complete(ask));

    expect(JSON.stringify(llm.requests[0]!.headers)).toContain(SECRET_KEY); // the key was sent and echoed
    expectNoKey(error);
  });

  it('timeout', async () => {
    llm.respondOnce({ delayMs: 10_000 });
    expectNoKey(await catchAppError(make(undefined, 100).complete(ask)));
  });

  it('connection refused', async () => {
    expectNoKey(await catchAppError(make(closedPortOrigin).complete(ask)));
  });
});

function expectNoKey(error: AppError): void {
  const views = [
    error.message,
    error.stack ?? '',
    JSON.stringify(error.cause),
    JSON.stringify(error),
    String(error),
  ];
  for (const view of views) expect(view).not.toContain(SECRET_KEY);
  expect(error.message).not.toMatch(/Bearer \w/);
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after': '7' }, 7],
    [{ 'retry-after': '2.5' }, 3],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, 30],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, 0],
    [{ 'retry-after-ms': '250' }, 1],
    [{ 'retry-after-ms': '4000', 'retry-after': '60' }, 4],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%o → %s', (headers, expected) => {
    expect(parseRetryAfter(new Headers(headers), now)).toBe(expected);
  });

  it('is undefined without headers', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('toAiError on errors that are not HTTP answers', () => {
  const context = { provider: 'openai', timeoutMs: 1000 };

  it('passes an AppError through unchanged', () => {
    const original = new AppError('ai_bad_request', 'already mapped');
    expect(toAiError(original, context)).toBe(original);
  });

  it.each([
    ['an AbortError', new DOMException('aborted', 'AbortError')],
    ['a TimeoutError', new DOMException('timed out', 'TimeoutError')],
    ["the SDK's connection timeout", new OpenAi.APIConnectionTimeoutError()],
  ])('maps %s to ai_timeout', (_name, error) => {
    expect(toAiError(error, context).kind).toBe('ai_timeout');
  });

  it('maps OpenAI\'s "insufficient_quota" 429 to ai_auth: waiting will not bring credit back', () => {
    const error = new OpenAi.RateLimitError(
      429,
      { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' },
      undefined,
      new Headers(),
    );
    const mapped = toAiError(error, context);
    expect(mapped.kind).toBe('ai_auth');
    expect(mapped.retryable).toBe(false);
  });

  it('maps anything else to a retryable ai_unavailable, with key-shaped text scrubbed', () => {
    const mapped = toAiError(new TypeError('bad header Bearer sk-proj-abcdef123456'), context);
    expect(mapped.kind).toBe('ai_unavailable');
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).not.toContain('abcdef123456');
    expect(toAiError('a string', context).kind).toBe('ai_unavailable');
  });
});
