import { describe, expect, it } from 'vitest';
import { createOfflineModel } from '../../src/ai/offline.js';
import type { ChatMessage } from '../../src/ports.js';
import { catchAppError } from './catch-app-error.js';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Do you remember me?' },
  { role: 'assistant', content: 'Of course.' },
  { role: 'user', content: '  What is   the weather?  ' },
];

describe('offline chat model', () => {
  it('says the same thing for the same context, and names itself offline', async () => {
    const model = createOfflineModel();

    const first = await model.complete({ messages: conversation });
    const second = await createOfflineModel().complete({ messages: structuredClone(conversation) });

    expect(second).toEqual(first);
    expect(model.provider).toBe('offline');
    expect(model.model).toBe('offline');
    expect(first.model).toBe('offline');
  });

  it('explains that no AI provider is configured and how to configure one', async () => {
    const { text } = await createOfflineModel().complete({ messages: conversation });

    expect(text).toMatch(/no AI provider is configured/i);
    for (const variable of ['OPENROUTER_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AI_BASE_URL']) {
      expect(text).toContain(variable);
    }
    expect(text).toMatch(/Ollama/);
    expect(text).toMatch(/restart/i);
  });

  it("quotes the user's last message and counts the earlier non-system messages", async () => {
    const { text } = await createOfflineModel().complete({ messages: conversation });

    expect(text).toContain('"What is the weather?"');
    expect(text).toMatch(/context: 4\./);
  });

  it('counts zero earlier messages on a first message', async () => {
    const { text } = await createOfflineModel().complete({
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'First!' },
      ],
    });

    expect(text).toContain('"First!"');
    expect(text).toMatch(/context: 0\./);
  });

  it('shortens a long message to about 200 characters', async () => {
    const long = 'word '.repeat(200);

    const { text } = await createOfflineModel().complete({ messages: [{ role: 'user', content: long }] });

    const quoted = /"([^"]*)"/.exec(text)?.[1] ?? '';
    expect(quoted.length).toBeLessThanOrEqual(200);
    expect(quoted.length).toBeGreaterThan(150);
    expect(quoted.endsWith('…')).toBe(true);
  });

  it('reports word counts as usage', async () => {
    const result = await createOfflineModel().complete({
      messages: [
        { role: 'system', content: 'Be nice.' },
        { role: 'user', content: 'one two three' },
      ],
    });

    expect(result.usage.inputTokens).toBe(5);
    expect(result.usage.outputTokens).toBe(result.text.trim().split(/\s+/).length);
  });

  it('refuses when the signal is already aborted', async () => {
    const error = await catchAppError(
      createOfflineModel().complete({ messages: conversation }, AbortSignal.abort()),
    );

    expect(error.code).toBe('cancelled');
  });
});
