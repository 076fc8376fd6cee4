/**
 * Images to vision models (issue #15): each adapter sends a user turn's images as its provider's content parts,
 * through the real SDK to the fake LLM server, and leaves a text-only turn as the plain string it always was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../src/ai/anthropic.js';
import { createOfflineModel } from '../../src/ai/offline.js';
import { createOpenAiCompatibleModel } from '../../src/ai/openai-compatible.js';
import type { ChatImage, ChatMessage } from '../../src/domain/types.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';

/** A 1×1 PNG and a tiny JPEG header: real base64, small enough to compare whole. */
const PNG: ChatImage = {
  contentType: 'image/png',
  base64: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
};
const JPEG: ChatImage = { contentType: 'image/jpeg', base64: '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA==' };

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

const openai = () =>
  createOpenAiCompatibleModel({
    provider: 'openai',
    apiKey: 'sk-test',
    model: 'gpt-4o-mini',
    baseUrl: llm.openaiBaseUrl,
    timeoutMs: 5000,
  });
const anthropic = () =>
  createAnthropicModel({
    apiKey: 'anthropic-test-key',
    model: 'claude-sonnet-4-6',
    baseUrl: llm.anthropicBaseUrl,
    timeoutMs: 5000,
  });

const withPhoto: ChatMessage[] = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'What plant is this?', images: [JPEG, PNG] },
];

type Body = { messages: Array<{ role: string; content: unknown }> };

describe('OpenAI-compatible adapter with images', () => {
  it('sends the caption as a text part, then each image as an image_url data URL', async () => {
    await openai().complete({ messages: withPhoto });

    const body = llm.requests[0]!.body as Body;
    expect(body.messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What plant is this?' },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${JPEG.base64}` } },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.base64}` } },
      ],
    });
    // The turns without images are the plain strings they always were.
    expect(body.messages.slice(0, 3)).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ]);
    expect(llm.requests[0]!.messages.at(-1)?.images).toEqual([JPEG, PNG]);
  });

  it("reads usage from the provider's prompt tokens, which include the images", async () => {
    llm.respondOnce({ text: 'A fern.', usage: { input: 1234, output: 3 } });

    const result = await openai().complete({ messages: withPhoto });

    expect(result).toMatchObject({ text: 'A fern.', usage: { inputTokens: 1234, outputTokens: 3 } });
  });

  it('sends an empty image array as a plain text turn', async () => {
    await openai().complete({ messages: [{ role: 'user', content: 'ping', images: [] }] });

    expect((llm.requests[0]!.body as Body).messages).toEqual([{ role: 'user', content: 'ping' }]);
  });
});

describe('Anthropic adapter with images', () => {
  it('sends base64 image blocks first, then the caption as a text block', async () => {
    await anthropic().complete({ messages: withPhoto });

    const body = llm.requests[0]!.body as Body;
    expect(body.messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: JPEG.base64 } },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.base64 } },
          { type: 'text', text: 'What plant is this?' },
        ],
      },
    ]);
    expect(llm.requests[0]!.messages.at(-1)?.images).toEqual([JPEG, PNG]);
  });

  it('merges a text turn and an image turn of the user into one turn of blocks, in order', async () => {
    await anthropic().complete({
      messages: [
        { role: 'user', content: 'Look:' },
        { role: 'user', content: 'my balcony', images: [PNG] },
        { role: 'user', content: 'thoughts?' },
      ],
    });

    expect((llm.requests[0]!.body as Body).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.base64 } },
          { type: 'text', text: 'my balcony' },
          { type: 'text', text: 'thoughts?' },
        ],
      },
    ]);
  });

  it('still merges text-only turns into one string', async () => {
    await anthropic().complete({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
      ],
    });

    expect((llm.requests[0]!.body as Body).messages).toEqual([{ role: 'user', content: 'one\n\ntwo' }]);
  });

  it("reads usage from the provider's input tokens, which include the images", async () => {
    llm.respondOnce({ text: 'A fern.', usage: { input: 1650, output: 4 } });

    const result = await anthropic().complete({ messages: withPhoto });

    expect(result.usage).toEqual({ inputTokens: 1650, outputTokens: 4 });
  });
});

describe('offline model with images', () => {
  it('answers a turn with images as it answers its text', async () => {
    const result = await createOfflineModel().complete({ messages: withPhoto });

    expect(result.text).toContain('You wrote: "What plant is this?"');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });
});
