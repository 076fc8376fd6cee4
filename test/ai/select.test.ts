import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChatModel } from '../../src/ai/select.js';
import type { AiSettings } from '../../src/config/load.js';
import { isAppError } from '../../src/domain/errors.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';

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

function settings(overrides: Partial<AiSettings>): AiSettings {
  return {
    provider: 'offline',
    apiKey: undefined,
    model: 'some-model',
    baseUrl: undefined,
    timeoutMs: 5000,
    temperature: 0.7,
    maxTokens: 123,
    systemPrompt: 'You are helpful.',
    ...overrides,
  };
}

const ask = { messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('createChatModel', () => {
  it('picks the offline model, which makes no request', async () => {
    const model = createChatModel(settings({ provider: 'offline' }));

    const result = await model.complete(ask);

    expect(model.provider).toBe('offline');
    expect(result.text).toMatch(/no AI provider is configured/i);
    expect(llm.requests).toHaveLength(0);
  });

  it('picks Anthropic, which speaks the Messages protocol with the configured limits', async () => {
    const model = createChatModel(
      settings({
        provider: 'anthropic',
        apiKey: 'a-key',
        model: 'claude-haiku-4-5',
        baseUrl: llm.anthropicBaseUrl,
      }),
    );

    await model.complete(ask);

    expect(model.provider).toBe('anthropic');
    expect(model.model).toBe('claude-haiku-4-5');
    expect(llm.requests[0]).toMatchObject({ protocol: 'anthropic', model: 'claude-haiku-4-5' });
    expect(llm.requests[0]!.body).toMatchObject({ max_tokens: 123, temperature: 0.7 });
  });

  it.each(['openai', 'openrouter', 'openai-compatible'] as const)(
    'picks the Chat Completions adapter for %s',
    async (provider) => {
      const model = createChatModel(settings({ provider, apiKey: 'k', baseUrl: llm.openaiBaseUrl }));

      await model.complete(ask);

      expect(model.provider).toBe(provider);
      expect(llm.requests[0]).toMatchObject({ protocol: 'openai', model: 'some-model' });
    },
  );

  it('passes the app URL on to OpenRouter', async () => {
    const model = createChatModel(
      settings({ provider: 'openrouter', apiKey: 'k', baseUrl: llm.openaiBaseUrl }),
      {
        appUrl: 'https://bot.example.org',
      },
    );

    await model.complete(ask);

    expect(llm.requests[0]!.headers['http-referer']).toBe('https://bot.example.org');
  });

  it('refuses Anthropic without a key, as a config error', () => {
    let caught: unknown;
    try {
      createChatModel(settings({ provider: 'anthropic', apiKey: undefined }));
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught) && caught.kind).toBe('config');
  });
});
