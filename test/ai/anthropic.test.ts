import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel, type AnthropicOptions } from '../../src/ai/anthropic.js';
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

function model(overrides: Partial<AnthropicOptions> = {}) {
  return createAnthropicModel({
    apiKey: 'anthropic-test-key',
    model: 'claude-sonnet-4-6',
    baseUrl: llm.anthropicBaseUrl,
    timeoutMs: 5000,
    temperature: 0.5,
    maxTokens: 300,
    ...overrides,
  });
}

describe('Anthropic chat model', () => {
  it('puts system turns into the system parameter and sends model, max_tokens, temperature and the key', async () => {
    await model().complete({
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'system', content: 'Answer in English.' },
        { role: 'user', content: 'Hi' },
      ],
    });

    const sent = llm.requests[0]!;
    expect(sent.protocol).toBe('anthropic');
    expect(sent.model).toBe('claude-sonnet-4-6');
    expect(sent.system).toBe('You are helpful.\n\nAnswer in English.');
    expect(sent.messages).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(sent.body).toMatchObject({ max_tokens: 300, temperature: 0.5 });
    // This SDK line sends the API key as a bearer token (older ones used x-api-key).
    expect(sent.headers.authorization ?? sent.headers['x-api-key']).toMatch(/anthropic-test-key$/);
    expect(sent.headers['anthropic-version']).toBeTruthy();
  });

  it('merges consecutive turns of one role and drops assistant turns before the first user turn', async () => {
    await model().complete({
      messages: [
        { role: 'assistant', content: 'Welcome!' },
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'three' },
      ],
    });

    const sent = llm.requests[0]!;
    expect(sent.messages).toEqual([
      { role: 'user', content: 'one\n\ntwo' },
      { role: 'assistant', content: 'a\n\nb' },
      { role: 'user', content: 'three' },
    ]);
    expect(sent.system).toBe('Be brief.');
  });

  it('always sends max_tokens, and the request overrides the defaults', async () => {
    await model({ maxTokens: undefined, temperature: undefined }).complete({
      messages: [{ role: 'user', content: 'a' }],
    });
    await model().complete({ messages: [{ role: 'user', content: 'b' }], maxTokens: 20, temperature: 0 });

    expect(llm.requests[0]!.body).toHaveProperty('max_tokens');
    expect(llm.requests[0]!.body).not.toHaveProperty('temperature');
    expect(llm.requests[0]!.body).not.toHaveProperty('system');
    expect(llm.requests[1]!.body).toMatchObject({ max_tokens: 20, temperature: 0 });
  });

  it('answers with the text blocks joined, the reported model and the usage', async () => {
    llm.respondOnce({
      model: 'claude-sonnet-4-6-20260101',
      usage: { input: 17, output: 4 },
      anthropicContent: [
        { type: 'thinking', thinking: 'The user greets me.', signature: 'sig' },
        { type: 'text', text: 'Hello ' },
        { type: 'text', text: 'there! ' },
      ],
    });

    const result = await model().complete({ messages: [{ role: 'user', content: 'Hi' }] });

    expect(result).toEqual({
      text: 'Hello there!',
      model: 'claude-sonnet-4-6-20260101',
      usage: { inputTokens: 17, outputTokens: 4 },
    });
  });

  it('refuses a context with no user turn without calling the API', async () => {
    const error = await catchAppError(
      model().complete({
        messages: [
          { role: 'system', content: 'x' },
          { role: 'assistant', content: 'y' },
        ],
      }),
    );

    expect(error.kind).toBe('ai_bad_request');
    expect(error.retryable).toBe(false);
    expect(llm.requests).toHaveLength(0);
  });

  it('treats an answer without text as a retryable ai_unavailable', async () => {
    llm.respondOnce({ anthropicContent: [] });

    const error = await catchAppError(model().complete({ messages: [{ role: 'user', content: 'Hi' }] }));

    expect(error.kind).toBe('ai_unavailable');
    expect(error.retryable).toBe(true);
  });
});
