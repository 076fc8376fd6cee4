import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiCompatibleModel, type OpenAiCompatibleOptions } from '../../src/ai/openai-compatible.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { catchAppError } from './catch-app-error.js';

let llm: FakeLlm;

beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(async () => {
  await llm.close();
});
beforeEach(() => {
  llm.reset();
});

function model(overrides: Partial<OpenAiCompatibleOptions> = {}) {
  return createOpenAiCompatibleModel({
    provider: 'openrouter',
    apiKey: 'sk-or-test-key',
    model: 'openai/gpt-4o-mini',
    baseUrl: llm.openaiBaseUrl,
    timeoutMs: 5000,
    temperature: 0.3,
    maxTokens: 256,
    ...overrides,
  });
}

const conversation = [
  { role: 'system' as const, content: 'You are helpful.' },
  { role: 'user' as const, content: 'Hi' },
  { role: 'assistant' as const, content: 'Hello! How can I help?' },
  { role: 'user' as const, content: 'What time is it?' },
];

describe('OpenAI-compatible chat model', () => {
  it('sends the model, every message in order, temperature and max_tokens, and returns text, model and usage', async () => {
    llm.respondOnce({
      text: '  It is noon.  \n',
      model: 'openai/gpt-4o-mini-2024-07-18',
      usage: { input: 42, output: 5 },
    });

    const result = await model().complete({ messages: conversation });

    expect(result).toEqual({
      text: 'It is noon.',
      model: 'openai/gpt-4o-mini-2024-07-18',
      usage: { inputTokens: 42, outputTokens: 5 },
    });
    expect(llm.requests).toHaveLength(1);
    const sent = llm.requests[0]!;
    expect(sent.protocol).toBe('openai');
    expect(sent.model).toBe('openai/gpt-4o-mini');
    expect(sent.messages).toEqual(conversation);
    expect(sent.body).toMatchObject({ temperature: 0.3, max_tokens: 256 });
    expect(sent.headers.authorization).toBe('Bearer sk-or-test-key');
  });

  it('lets the request override the default temperature and token limit', async () => {
    await model().complete({ messages: conversation, temperature: 1.1, maxTokens: 50 });

    expect(llm.requests[0]!.body).toMatchObject({ temperature: 1.1, max_tokens: 50 });
  });

  it('identifies the app to OpenRouter with HTTP-Referer and X-Title', async () => {
    await model({ appUrl: 'https://bot.example.com' }).complete({ messages: conversation });
    await model().complete({ messages: conversation });

    expect(llm.requests[0]!.headers['http-referer']).toBe('https://bot.example.com');
    expect(llm.requests[0]!.headers['x-title']).toBe('whatsapp-ai-chatbot');
    expect(llm.requests[1]!.headers['http-referer']).toBe('whatsapp-ai-chatbot');
  });

  it('sends max_completion_tokens to OpenAI itself and no OpenRouter headers', async () => {
    await model({ provider: 'openai', apiKey: 'sk-openai-test', model: 'gpt-4o-mini' }).complete({
      messages: conversation,
    });

    const sent = llm.requests[0]!;
    expect(sent.body).toMatchObject({ max_completion_tokens: 256 });
    expect(sent.body).not.toHaveProperty('max_tokens');
    expect(sent.headers).not.toHaveProperty('x-title');
    expect(sent.headers).not.toHaveProperty('http-referer');
    expect(sent.headers.authorization).toBe('Bearer sk-openai-test');
  });

  it('talks to a local server that needs no key, sending a placeholder', async () => {
    const local = model({ provider: 'openai-compatible', apiKey: undefined, model: 'llama3.2' });

    const result = await local.complete({ messages: [{ role: 'user', content: 'ping' }] });

    expect(result.text).toBe('fake reply to: ping');
    expect(local.provider).toBe('openai-compatible');
    expect(llm.requests[0]!.headers.authorization).toMatch(/^Bearer \S+$/);
  });

  it('reports zero usage when the server leaves usage out', async () => {
    llm.respondOnce({ text: 'ok', usage: null });

    const result = await model().complete({ messages: conversation });

    expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it('returns a 4000-character answer whole', async () => {
    const long = 'x'.repeat(4000);
    llm.respondOnce({ text: long });

    const result = await model().complete({ messages: conversation });

    expect(result.text).toBe(long);
  });

  it('treats an empty answer as a retryable ai_unavailable', async () => {
    llm.respondOnce({ text: '   ' });

    const error = await catchAppError(model().complete({ messages: conversation }));

    expect(error.kind).toBe('ai_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('empty_response');
  });

  it("stops when the caller's signal aborts, as a retryable cancellation", async () => {
    const controller = new AbortController();
    llm.respondOnce(() => {
      controller.abort();
      return { delayMs: 10_000 };
    });

    const error = await catchAppError(model().complete({ messages: conversation }, controller.signal));

    expect(error.kind).toBe('ai_unavailable');
    expect(error.code).toBe('cancelled');
    expect(error.retryable).toBe(true);
  });

  it("reports the caller's own deadline as ai_timeout", async () => {
    const controller = new AbortController();
    llm.respondOnce(() => {
      controller.abort(new DOMException('job deadline', 'TimeoutError'));
      return { delayMs: 10_000 };
    });

    const error = await catchAppError(model().complete({ messages: conversation }, controller.signal));

    expect(error.kind).toBe('ai_timeout');
  });

  it('does not call the server when the signal is already aborted', async () => {
    const error = await catchAppError(model().complete({ messages: conversation }, AbortSignal.abort()));

    expect(error.code).toBe('cancelled');
    expect(llm.requests).toHaveLength(0);
  });
});
