import { describe, expect, it } from 'vitest';
import { buildPrompt } from '../../src/domain/prompt.js';

describe('buildPrompt', () => {
  it('puts the system prompt first, then history, then every new message in order', () => {
    const messages = buildPrompt({
      systemPrompt: 'Be brief.',
      history: [
        { id: '1', role: 'user', content: 'Hi', at: 1 },
        { id: '2', role: 'assistant', content: 'Hello!', at: 2 },
      ],
      batch: [{ content: 'first' }, { content: 'second' }],
    });
    expect(messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'first' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('omits an empty system prompt', () => {
    expect(buildPrompt({ systemPrompt: ' ', history: [], batch: [{ content: 'x' }] })).toEqual([
      { role: 'user', content: 'x' },
    ]);
  });
});
