/** The fake LLM is shared by other suites' end-to-end tests; these pin the behaviour they rely on. */
import { describe, expect, it } from 'vitest';
import { startFakeLlm } from '../fakes/llm-server.js';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('fake LLM server', () => {
  it('closes while a delayed answer is still pending, and the waiting client sees the connection drop', async () => {
    const llm = await startFakeLlm();
    llm.respond(() => ({ delayMs: 600_000 }));
    const pending = fetch(`${llm.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await until(() => llm.requests.length === 1);

    await llm.close();

    await expect(pending).rejects.toThrow();
  });

  it('serves queued replies first, then the handler, and records every request', async () => {
    const llm = await startFakeLlm();
    try {
      llm.respondOnce({ status: 500 });
      llm.respond((request) => ({ text: `n=${request.messages.length}` }));
      const post = () =>
        fetch(`${llm.anthropicBaseUrl}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'm',
            max_tokens: 10,
            system: [{ type: 'text', text: 'sys' }],
            messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
          }),
        });

      const first = await post();
      const second = await post();

      expect(first.status).toBe(500);
      expect(await first.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(await second.json()).toMatchObject({
        type: 'message',
        content: [{ type: 'text', text: 'n=1' }],
      });
      expect(llm.requests).toHaveLength(2);
      expect(llm.requests[0]).toMatchObject({
        protocol: 'anthropic',
        system: 'sys',
        messages: [{ role: 'user', content: 'hi' }],
      });
    } finally {
      await llm.close();
    }
  });
});
