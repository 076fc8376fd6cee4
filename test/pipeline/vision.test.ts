/**
 * Images and the model that answers (issue #15), with the real OpenAI-compatible adapter against the fake LLM
 * server: image parts go only to a model with vision (the fallback may lack it: it reads a note instead), and a
 * batch of photos without any text, to a model that cannot see them, gets a polite notice without a model call,
 * closed as `notice`/`no_vision` on a real PostgreSQL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createOpenAiCompatibleModel } from '../../src/ai/openai-compatible.js';
import { createSimulatorChannel } from '../../src/channels/simulator/channel.js';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound } from '../../src/db/messages.js';
import { rowsOf } from '../../src/db/rows.js';
import type { Content } from '../../src/domain/content.js';
import { describeOutcome } from '../../src/domain/outcome.js';
import type { ChatImage } from '../../src/domain/types.js';
import { noVisionNotice } from '../../src/domain/user-messages.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { generateAnswer } from '../../src/pipeline/generate.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { AiChoice, ChatModel } from '../../src/ports.js';
import { inbound } from '../db/fixtures.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { fixedAi, noNumberRows, numbersOf } from '../helpers/pipeline-deps.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const PNG: ChatImage = {
  contentType: 'image/png',
  base64: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
};

let database: TestDatabase;
let db: Db;
let llm: FakeLlm;
beforeAll(async () => {
  [database, llm] = await Promise.all([createTestDatabase(), startFakeLlm()]);
  db = database.database.db;
});
afterAll(async () => {
  await Promise.all([database.close(), llm.close()]);
});
beforeEach(() => {
  llm.reset();
});

const settings = pipelineSettings();
const modelNamed = (model: string): ChatModel =>
  createOpenAiCompatibleModel({
    provider: 'openai-compatible',
    apiKey: undefined,
    model,
    baseUrl: llm.openaiBaseUrl,
    timeoutMs: 5000,
  });

function choice(overrides: Partial<AiChoice> = {}): AiChoice {
  return {
    model: modelNamed('seeing-model'),
    systemPrompt: 'be brief',
    temperature: 0.2,
    maxTokens: 100,
    ...overrides,
  };
}

const jobContext = { jobId: 'j', attempt: 1, maxAttempts: 3 };
const photoPayload = (caption?: string): Record<string, unknown> => ({
  content: {
    type: 'media',
    items: [{ kind: 'image', contentType: 'image/png', reference: 'https://api.twilio.com/media/1' }],
    ...(caption === undefined ? {} : { caption }),
  },
  context: {},
});

function generate(ai: AiChoice, batch: Parameters<typeof generateAnswer>[3]) {
  return generateAnswer(
    {
      ai: fixedAi(() => Promise.resolve(ai)),
      numbers: noNumberRows,
      settings,
      db,
      locks: createMemoryLocks(),
    },
    { channel: 'simulator', businessAddress: null },
    [],
    batch,
    jobContext,
    new AbortController().signal,
    silentLogger(),
  );
}

describe('generate with images', () => {
  it('sends the image part to a model with vision', async () => {
    const answer = await generate(choice({ vision: true }), [
      {
        content: '[Image (image/png)]\nWhat is this?',
        images: [PNG],
        payload: photoPayload('What is this?'),
      },
    ]);

    expect(answer.notice).toBeUndefined();
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]!.messages.at(-1)).toEqual({
      role: 'user',
      content: '[Image (image/png)]\nWhat is this?',
      images: [PNG],
    });
  });

  it('a fallback without vision gets no image part, and a note that an image was sent', async () => {
    llm.respondOnce({ status: 503 });
    const fallback = modelNamed('text-only-fallback');
    const answer = await generate(choice({ vision: true, fallback, fallbackVision: false }), [
      {
        content: '[Image (image/png)]\nWhat is this?',
        images: [PNG],
        payload: photoPayload('What is this?'),
      },
    ]);

    expect(llm.requests.map((r) => r.model)).toEqual(['seeing-model', 'text-only-fallback']);
    expect(llm.requests[0]!.messages.at(-1)?.images).toEqual([PNG]);
    const toFallback = llm.requests[1]!;
    expect(toFallback.messages.at(-1)?.images).toBeUndefined();
    expect(toFallback.messages.at(-1)?.content).toMatch(
      /^\[Image \(image\/png\)\]\nWhat is this\?\n\[The user sent an image here, but you cannot see images/,
    );
    expect(JSON.stringify(toFallback.body)).not.toContain(PNG.base64);
    expect(answer).toMatchObject({ model: 'text-only-fallback', errorKind: null });
  });

  it('a fallback with vision gets the image part too', async () => {
    llm.respondOnce({ status: 503 });
    await generate(choice({ vision: true, fallback: modelNamed('seeing-fallback'), fallbackVision: true }), [
      { content: 'look', images: [PNG] },
    ]);

    expect(llm.requests[1]!.messages.at(-1)?.images).toEqual([PNG]);
  });

  it('never sends images to a main model without vision, even when handed some', async () => {
    await generate(choice({ vision: false }), [
      { content: 'what do you think?', images: [PNG], payload: photoPayload('what do you think?') },
    ]);

    expect(llm.requests[0]!.messages.at(-1)?.images).toBeUndefined();
    expect(llm.requests[0]!.messages.at(-1)?.content).toContain('you cannot see images');
  });

  it('a photo without text to a model without vision: the notice, no model call', async () => {
    const answer = await generate(choice({ vision: false }), [
      { content: '[Image (image/png)]', payload: photoPayload() },
      { content: '[Image (image/png)]', payload: photoPayload('   ') },
    ]);

    expect(llm.requests).toHaveLength(0);
    expect(answer).toMatchObject({ text: noVisionNotice(), notice: 'no_vision', calls: [], usage: null });
    expect(noVisionNotice()).toContain('--vision');
  });

  it('a photo with a caption to a model without vision is answered by the model from the text', async () => {
    const answer = await generate(choice({ vision: false }), [
      { content: '[Image (image/png)]\nIs this a fern?', payload: photoPayload('Is this a fern?') },
    ]);

    expect(llm.requests).toHaveLength(1);
    expect(answer.notice).toBeUndefined();
  });

  it('a photo without text beside a text message goes to the model', async () => {
    await generate(choice({ vision: false }), [
      { content: '[Image (image/png)]', payload: photoPayload() },
      { content: 'my plant is dying', payload: { content: { type: 'text', text: 'my plant is dying' } } },
    ]);

    expect(llm.requests).toHaveLength(1);
  });
});

describe('the no-vision notice through the worker', () => {
  it('is sent, stored as a system notice, and closes the photo as notice/no_vision', async () => {
    const channel = createSimulatorChannel();
    const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
    const deps = {
      db,
      queue,
      unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
      locks: createMemoryLocks(),
      context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
      limiter: createMemoryRateLimiter(),
      ai: fixedAi(() => Promise.resolve(choice({ model: modelNamed('gpt-3.5-turbo'), vision: false }))),
      numbers: numbersOf(db),
      channelFor: () => channel,
      log: silentLogger(),
      settings,
    };
    const content: Content = {
      type: 'media',
      items: [{ kind: 'image', contentType: 'image/jpeg', reference: 'https://api.twilio.com/media/2' }],
    };
    const message = inbound({ body: '[Image (image/jpeg)]', content });
    const accepted = await acceptInbound(db, message);

    const outcome = await processConversation(
      deps,
      { conversationId: accepted.conversationId, messageId: accepted.messageId },
      jobContext,
    );

    expect(outcome).toEqual({ kind: 'done' });
    expect(llm.requests).toHaveLength(0);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([noVisionNotice()]);
    const rows = rowsOf<{
      role: string;
      author: string | null;
      status: string | null;
      reason: string | null;
    }>(
      await db.execute(sql`
        select role, author, processing_status as status, outcome_reason as reason from messages
        where conversation_id = ${accepted.conversationId} order by created_at`),
    );
    expect(rows).toEqual([
      { role: 'user', author: null, status: 'notice', reason: 'no_vision' },
      expect.objectContaining({ role: 'assistant', author: 'system' }),
    ]);
    expect(describeOutcome('notice', 'no_vision')).toContain('cannot see images');
    // The notice is not a turn of the conversation the model continues.
    expect(await deps.context.get(accepted.conversationId)).toBeNull();
  });
});
