import { describe, expect, it } from 'vitest';
import { visionByDefault } from '../../src/ai/vision-models.js';

describe('visionByDefault', () => {
  it.each([
    'gpt-4o-mini',
    'openai/gpt-4o',
    'gpt-4.1-nano',
    'gpt-5-mini',
    'claude-3-5-haiku-latest',
    'claude-sonnet-4-5',
    'anthropic/claude-opus-4.1',
    'google/gemini-2.5-flash',
    'llava:13b',
    'qwen2.5-vl-7b-instruct',
  ])('knows %s sees images', (model) => {
    expect(visionByDefault(model)).toBe(true);
  });

  it.each(['gpt-3.5-turbo', 'llama3.1:8b', 'mistral-small', 'deepseek-chat', 'offline'])(
    'treats %s as text-only',
    (model) => {
      expect(visionByDefault(model)).toBe(false);
    },
  );
});
