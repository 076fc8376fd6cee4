/**
 * The worker's stages on a real PostgreSQL with the in-process adapters and the simulator channel: folding,
 * MAX_FOLDS, the lost lock, outcomes with reasons, model calls recorded, recovery runs bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound, saveReply } from '../../src/db/messages.js';
import { AppError } from '../../src/domain/errors.js';
import { rowsOf } from '../../src/db/rows.js';
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/connect.js';
import { createSimulatorChannel } from '../../src/channels/simulator/channel.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { MAX_FOLDS } from '../../src/pipeline/answer-batch.js';
import { MAX_RECOVERY_RUNS, processConversation } from '../../src/pipeline/process-conversation.js';
import type { PipelineSettings } from '../../src/pipeline/deps.js';
import type { ChatModel, ChatRequest, JobContext, Locks } from '../../src/ports.js';
import { inbound, plainReply } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';
import { fixedAi, numbersOf } from '../helpers/pipeline-deps.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
});
afterAll(() => database.close());

const settings = pipelineSettings({
  handoffKeywords: ['human', 'agent'],
  handoffMessage: 'A person will answer you here.',
});

/** A model whose every call runs `during` first (to make things happen while it "thinks"). */
function scriptedModel(during: (call: number, request: ChatRequest, signal?: AbortSignal) => Promise<void>) {
  const requests: ChatRequest[] = [];
  const model: ChatModel = {
    provider: 'scripted',
    model: 'scripted-1',
    async complete(request, signal) {
      requests.push(request);
      await during(requests.length, request, signal);
      const last = request.messages.filter((m) => m.role === 'user').map((m) => m.content);
      return {
        text: `re: ${last.join(' | ')}`,
        model: 'scripted-1',
        usage: { inputTokens: 10, outputTokens: 5 },
      };
    },
  };
  return { model, requests };
}

function deps(model: ChatModel, overrides: { locks?: Locks; settings?: Partial<PipelineSettings> } = {}) {
  const channel = createSimulatorChannel();
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  return {
    channel,
    deps: {
      db,
      // Never consumed here: outbound messages a handoff stores are sent by the job's own next round.
      queue,
      unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
      locks: overrides.locks ?? createMemoryLocks(),
      context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
      limiter: createMemoryRateLimiter(),
      ai: fixedAi(() =>
        Promise.resolve({ model, systemPrompt: 'be brief', temperature: 0.2, maxTokens: 100 }),
      ),
      numbers: numbersOf(db),
      channelFor: () => channel,
      log: silentLogger(),
      settings: { ...settings, ...overrides.settings },
    },
  };
}

const job = (conversationId: string, messageId: string) => ({ conversationId, messageId });
const context = (attempt = 1, maxAttempts = 3): JobContext => ({ jobId: 'j', attempt, maxAttempts });

async function query<T>(text: string, params: unknown[]): Promise<T[]> {
  const chunks = text.split(/\$\d+/);
  const built = chunks.reduce<ReturnType<typeof sql>>(
    (acc, chunk, i) => (i === 0 ? sql.raw(chunk) : sql`${acc}${params[i - 1]}${sql.raw(chunk)}`),
    sql.raw(''),
  );
  return rowsOf<T>(await db.execute(built));
}

const outcomes = (conversationId: string) =>
  query<{ content: string; processing_status: string; outcome_reason: string | null }>(
    `select content, processing_status, outcome_reason from messages
     where conversation_id = $1 and role = 'user' order by created_at`,
    [conversationId],
  );
const calls = (conversationId: string) =>
  query<{ outcome: string; input_tokens: number | null; outbound_message_id: string | null }>(
    `select outcome, input_tokens, outbound_message_id from model_calls where conversation_id = $1
     order by created_at`,
    [conversationId],
  );

describe('folding', () => {
  it('a message that arrives while the model thinks is folded into one answer; the discarded call is recorded', async () => {
    const first = inbound({ body: 'one' });
    let conversationId = '';
    const { model, requests } = scriptedModel(async (call) => {
      if (call === 1) await acceptInbound(db, inbound({ from: first.from, body: 'two' }));
    });
    const { deps: d, channel } = deps(model);
    const a = await acceptInbound(db, first);
    conversationId = a.conversationId;
    expect(await processConversation(d, job(a.conversationId, a.messageId), context())).toEqual({
      kind: 'done',
    });
    expect(requests).toHaveLength(2);
    expect(channel.sent(first.from).map((m) => m.body)).toEqual(['re: one | two']);
    expect(await outcomes(conversationId)).toEqual([
      { content: 'one', processing_status: 'answered', outcome_reason: null },
      { content: 'two', processing_status: 'answered', outcome_reason: null },
    ]);
    const recorded = await calls(conversationId);
    expect(recorded.map((c) => c.outcome)).toEqual(['discarded', 'used']);
    expect(recorded[0]?.input_tokens).toBe(10);
    expect(recorded[1]?.outbound_message_id).not.toBeNull();
  });

  it(`stops folding after ${MAX_FOLDS} folds and stores the answer it has`, async () => {
    const first = inbound({ body: 'm0' });
    const { model, requests } = scriptedModel(async (call) => {
      // Every call sees a newer message arrive: without the bound this would never end.
      await acceptInbound(db, inbound({ from: first.from, body: `m${call}` }));
    });
    const { deps: d, channel } = deps(model);
    const a = await acceptInbound(db, first);
    await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(requests).toHaveLength(MAX_FOLDS + 1);
    const sent = channel.sent(first.from).map((m) => m.body);
    expect(sent[0]).toBe(`re: ${Array.from({ length: MAX_FOLDS + 1 }, (_, i) => `m${i}`).join(' | ')}`);
    // The message that arrived during the last call is still pending: its own job answers it.
    const rows = await outcomes(a.conversationId);
    expect(rows.at(-1)).toMatchObject({ content: `m${MAX_FOLDS + 1}`, processing_status: 'pending' });
  });
});

describe('a human takes over while the model thinks', () => {
  it('the answer is not sent, every message is skipped, and the discarded call stays on record', async () => {
    const first = inbound({ body: 'hello' });
    let conversationId = '';
    const { model } = scriptedModel(async () => {
      await query(`update conversations set mode = 'human' where id = $1`, [conversationId]);
      await acceptInbound(db, inbound({ from: first.from, body: 'are you there?' }));
    });
    const { deps: d, channel } = deps(model);
    const a = await acceptInbound(db, first);
    conversationId = a.conversationId;
    await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(channel.sent(first.from)).toEqual([]);
    expect((await outcomes(conversationId)).map((o) => [o.processing_status, o.outcome_reason])).toEqual([
      ['skipped', 'mode_human'],
      ['skipped', 'mode_human'],
    ]);
    expect((await calls(conversationId)).map((c) => c.outcome)).toEqual(['discarded']);
  });
});

describe('an operator pauses the conversation while the model thinks (no new message)', () => {
  it('the answer is not stored: the statement checks the mode, and the message is skipped', async () => {
    const first = inbound({ body: 'hello' });
    let conversationId = '';
    const { model } = scriptedModel(async () => {
      await query(`update conversations set mode = 'paused' where id = $1`, [conversationId]);
    });
    const { deps: d, channel } = deps(model);
    const a = await acceptInbound(db, first);
    conversationId = a.conversationId;
    await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(channel.sent(first.from)).toEqual([]);
    expect(await outcomes(conversationId)).toEqual([
      { content: 'hello', processing_status: 'skipped', outcome_reason: 'mode_paused' },
    ]);
    const replies = await query(`select 1 from messages where conversation_id = $1 and role = 'assistant'`, [
      conversationId,
    ]);
    expect(replies).toEqual([]);
  });
});

describe('a lost lock', () => {
  it('aborts the model call: nothing is stored or sent, the job runs later', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const locks = createMemoryLocks({ clock });
    const first = inbound({ body: 'hello' });
    const { model } = scriptedModel(async (_call, _request, signal) => {
      // Our lease expires and another worker takes the conversation while the model is thinking.
      offset += 10_000;
      await locks.acquire(`conversation:${conversationId}`, 60_000);
      await new Promise((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        setTimeout(resolve, 5000);
      });
    });
    const { deps: d, channel } = deps(model, { locks, settings: { conversationLockTtlMs: 300 } });
    const a = await acceptInbound(db, first);
    const conversationId = a.conversationId;
    const outcome = await processConversation(d, job(conversationId, a.messageId), context());
    expect(outcome).toMatchObject({ kind: 'later' });
    expect(channel.sent(first.from)).toEqual([]);
    expect(await outcomes(conversationId)).toEqual([
      { content: 'hello', processing_status: 'pending', outcome_reason: null },
    ]);
  });
});

describe('outcomes with reasons', () => {
  it('human mode: stored, not answered, the reason recorded; no model call', async () => {
    const { model, requests } = scriptedModel(() => Promise.resolve());
    const { deps: d, channel } = deps(model);
    const message = inbound({ body: 'anyone there?' });
    const a = await acceptInbound(db, message);
    await query(`update conversations set mode = 'human' where id = $1`, [a.conversationId]);
    await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(requests).toEqual([]);
    expect(channel.sent(message.from)).toEqual([]);
    expect(await outcomes(a.conversationId)).toEqual([
      { content: 'anyone there?', processing_status: 'skipped', outcome_reason: 'mode_human' },
    ]);
  });

  it('a too-long message gets a notice stored with its outcome; the model is not asked', async () => {
    const { model, requests } = scriptedModel(() => Promise.resolve());
    const { deps: d, channel } = deps(model, { settings: { maxMessageLength: 5 } });
    const message = inbound({ body: '12345', metadata: { originalLength: 90 } });
    const a = await acceptInbound(db, message);
    await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(requests).toEqual([]);
    expect(channel.sent(message.from)).toHaveLength(1);
    expect(channel.sent(message.from)[0]?.body).toMatch(/too long/);
    expect(await outcomes(a.conversationId)).toEqual([
      { content: '12345', processing_status: 'notice', outcome_reason: 'too_long' },
    ]);
    const [notice] = await query<{ author: string }>(
      `select author from messages where conversation_id = $1 and role = 'assistant'`,
      [a.conversationId],
    );
    expect(notice?.author).toBe('system');
  });

  it('a failure on the last attempt fails the messages with the error kind', async () => {
    const model: ChatModel = {
      provider: 'scripted',
      model: 'broken',
      complete: () => Promise.reject(new Error('not an AppError: a bug')),
    };
    const { deps: d } = deps({ ...model });
    const failing = {
      ...d,
      ai: fixedAi(() => Promise.reject(new Error('configuration store unreadable'))),
    };
    const message = inbound({ body: 'hi' });
    const a = await acceptInbound(db, message);
    await expect(
      processConversation(failing, job(a.conversationId, a.messageId), context(1, 2)),
    ).rejects.toThrow();
    expect((await outcomes(a.conversationId))[0]?.processing_status).toBe('pending');
    await expect(
      processConversation(failing, job(a.conversationId, a.messageId), context(2, 2)),
    ).rejects.toThrow();
    expect(await outcomes(a.conversationId)).toEqual([
      { content: 'hi', processing_status: 'failed', outcome_reason: 'internal' },
    ]);
    const [row] = await query<{ attempts: number }>(
      `select attempts from messages where conversation_id = $1 and role = 'user'`,
      [a.conversationId],
    );
    expect(row?.attempts).toBe(2);
  });
});

describe('a part another worker is sending', () => {
  it('is not sent again before the lock TTL has passed; after it, the channel is asked, then it is sent once', async () => {
    const { model, requests } = scriptedModel(() => Promise.resolve());
    const { deps: d, channel } = deps(model);
    const message = inbound({ body: 'hello' });
    const a = await acceptInbound(db, message);
    // Another worker stored the reply with its first part claimed and is (as far as we know) still sending it.
    await saveReply(
      db,
      { ...plainReply(a.conversationId, [a.messageId], ['on its way']), to: message.from },
      { claimFirstPart: true },
    );
    const first = await processConversation(d, job(a.conversationId, a.messageId), context());
    expect(first.kind).toBe('later');
    expect(first.kind === 'later' && first.delayMs).toBeGreaterThan(20_000);
    expect(channel.sent(message.from)).toEqual([]);
    // The TTL has passed: the send is over one way or the other; the channel did not get it, so it goes now.
    await query(`update deliveries set sending_started_at = now() - interval '31 seconds' where body = $1`, [
      'on its way',
    ]);
    expect(await processConversation(d, job(a.conversationId, a.messageId), context())).toEqual({
      kind: 'done',
    });
    expect(channel.sent(message.from).map((m) => m.body)).toEqual(['on its way']);
    expect(requests).toEqual([]);
  });
});

describe('recovery runs', () => {
  it(`a message found overdue on more than ${MAX_RECOVERY_RUNS} runs fails for good instead of looping`, async () => {
    const crash = new Error('the worker dies on this message');
    const { model } = scriptedModel(() => Promise.reject(crash));
    const { deps: d } = deps(model, { settings: { strandedAfterMs: 0 } });
    const message = inbound({ body: 'poison' });
    const a = await acceptInbound(db, message);
    for (let run = 1; run <= MAX_RECOVERY_RUNS; run++) {
      await processConversation(d, job(a.conversationId, a.messageId), context(1, 5)).catch(() => undefined);
      expect((await outcomes(a.conversationId))[0]?.processing_status).toBe('pending');
    }
    expect(await processConversation(d, job(a.conversationId, a.messageId), context(1, 5))).toEqual({
      kind: 'done',
    });
    expect(await outcomes(a.conversationId)).toEqual([
      { content: 'poison', processing_status: 'failed', outcome_reason: 'attempts_exhausted' },
    ]);
    // Each failed run's model call is on the record, though no answer was stored.
    expect((await calls(a.conversationId)).map((c) => c.outcome)).toEqual(
      Array.from({ length: MAX_RECOVERY_RUNS }, () => 'failed'),
    );
  });
});

describe('review findings', () => {
  it("the queue's own retries are not recovery runs: the last attempt still apologises", async () => {
    const { model } = scriptedModel(() => Promise.reject(new AppError('ai_timeout', 'slow')));
    const { deps: d, channel } = deps(model, { settings: { strandedAfterMs: 0 } });
    const message = inbound({ body: 'hello?' });
    const a = await acceptInbound(db, message);
    for (let attempt = 1; attempt < 5; attempt++)
      await expect(
        processConversation(d, job(a.conversationId, a.messageId), context(attempt, 5)),
      ).rejects.toMatchObject({ kind: 'ai_timeout' });
    expect(await processConversation(d, job(a.conversationId, a.messageId), context(5, 5))).toEqual({
      kind: 'done',
    });
    expect(channel.sent(message.from)).toHaveLength(1);
    expect((await outcomes(a.conversationId))[0]?.processing_status).toBe('answered');
  });

  it("another message's job does not count a recovery run on an overdue message", async () => {
    const { model } = scriptedModel(() => Promise.reject(new AppError('ai_timeout', 'slow')));
    const { deps: d } = deps(model, { settings: { strandedAfterMs: 0 } });
    const first = inbound({ body: 'one' });
    const a = await acceptInbound(db, first);
    const b = await acceptInbound(db, inbound({ from: first.from, body: 'two' }));
    for (let i = 0; i < 5; i++)
      await processConversation(d, job(b.conversationId, b.messageId), context(1, 5)).catch(() => undefined);
    const [row] = await query<{ attempts: number }>('select attempts from messages where id = $1', [
      a.messageId,
    ]);
    expect(row?.attempts).toBe(0);
  });

  it('a worker whose messages were answered by another meanwhile (lost lock) stores no second reply', async () => {
    const first = inbound({ body: 'hello' });
    let ids: { conversationId: string; messageId: string } = { conversationId: '', messageId: '' };
    const { model } = scriptedModel(async () => {
      // Another worker, which took the expired lock, answers the same message while this one waits on the model.
      await saveReply(db, { ...plainReply(ids.conversationId, [ids.messageId], ['from the other worker']) });
    });
    const { deps: d, channel } = deps(model);
    ids = await acceptInbound(db, first);
    await processConversation(d, job(ids.conversationId, ids.messageId), context());
    expect(channel.sent(first.from)).toEqual([]);
    const replies = await query<{ content: string }>(
      `select content from messages where conversation_id = $1 and role = 'assistant'`,
      [ids.conversationId],
    );
    expect(replies.map((r) => r.content)).toEqual(['from the other worker']);
  });

  it('a failure of the folded re-ask keeps the discarded call on record', async () => {
    const first = inbound({ body: 'one' });
    const { model } = scriptedModel(async (call) => {
      if (call === 1) await acceptInbound(db, inbound({ from: first.from, body: 'two' }));
      else throw new AppError('ai_unavailable', 'down');
    });
    const { deps: d } = deps(model);
    const a = await acceptInbound(db, first);
    await expect(processConversation(d, job(a.conversationId, a.messageId), context(1, 3))).rejects.toThrow();
    expect((await calls(a.conversationId)).map((c) => c.outcome)).toEqual(['discarded', 'failed']);
  });

  it('giving up fails only the messages the job set out to answer', async () => {
    const first = inbound({ body: 'one' });
    let later = '';
    const { deps: d } = deps(scriptedModel(() => Promise.resolve()).model);
    const failing = {
      ...d,
      ai: fixedAi(async () => {
        // A message that arrives during this job has a job of its own.
        later = (await acceptInbound(db, inbound({ from: first.from, body: 'two' }))).messageId;
        throw new Error('configuration store unreadable');
      }),
    };
    const a = await acceptInbound(db, first);
    await expect(
      processConversation(failing, job(a.conversationId, a.messageId), context(3, 3)),
    ).rejects.toThrow();
    const rows = await query<{ id: string; processing_status: string }>(
      `select id, processing_status from messages where conversation_id = $1 and role = 'user'`,
      [a.conversationId],
    );
    expect(rows.find((r) => r.id === a.messageId)?.processing_status).toBe('failed');
    expect(rows.find((r) => r.id === later)?.processing_status).toBe('pending');
  });
});
