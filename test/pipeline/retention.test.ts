/**
 * RETENTION_DAYS against an aged database (rows aged with SQL): exactly the aged rows go, in several bounded
 * batches, a conversation only once nothing newer is left in it, and the sweep reports the counts in its log
 * line and its metric.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLocalMediaStore } from '../../src/media/local-store.js';
import { mediaKey } from '../../src/media/store.js';
import { applyRetention } from '../../src/pipeline/retention.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { sweep, type SweepSettings } from '../../src/pipeline/sweep.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import { captureLines } from '../log/capture.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const file = databaseForFile();

async function conversation(user: string, lastActivityDaysAgo: number): Promise<string> {
  const { rows } = await file.pool.query<{ id: string }>(
    `insert into conversations (channel, user_address, last_activity_at)
     values ('twilio', $1, now() - make_interval(days => $2)) returning id`,
    [user, lastActivityDaysAgo],
  );
  return rows[0]!.id;
}

async function message(conversationId: string, role: string, content: string, daysAgo: number) {
  const { rows } = await file.pool.query<{ id: string }>(
    `insert into messages (conversation_id, role, content, created_at)
     values ($1, $2, $3, now() - make_interval(days => $4)) returning id`,
    [conversationId, role, content, daysAgo],
  );
  const id = rows[0]!.id;
  if (role === 'assistant') {
    await file.pool.query(
      `insert into deliveries (message_id, conversation_id, part_index, part_count, body, to_address, status)
       values ($1, $2, 0, 1, $3, 'whatsapp:+1', 'delivered')`,
      [id, conversationId, content],
    );
  }
}

async function modelCall(conversationId: string, daysAgo: number) {
  await file.pool.query(
    `insert into model_calls (conversation_id, provider, model, outcome, created_at)
     values ($1, 'openai', 'gpt', 'used', now() - make_interval(days => $2))`,
    [conversationId, daysAgo],
  );
}

async function note(conversationId: string, body: string, daysAgo: number) {
  await file.pool.query(
    `insert into conversation_notes (conversation_id, author_kind, author_name, body, created_at)
     values ($1, 'user', 'ana', $2, now() - make_interval(days => $3))`,
    [conversationId, body, daysAgo],
  );
}

const texts = async () =>
  (await file.pool.query<{ content: string }>('select content from messages order by content')).rows.map(
    (r) => r.content,
  );
const count = async (table: string) =>
  (await file.pool.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;

it('deletes exactly the rows older than RETENTION_DAYS, a few per statement, and reports them', async () => {
  // Stale: everything in it is 10 days old, so it goes whole.
  const stale = await conversation('whatsapp:+15550000001', 10);
  await message(stale, 'user', 'stale 1', 10);
  await message(stale, 'assistant', 'stale 2', 10);
  await message(stale, 'user', 'stale 3', 10);
  await modelCall(stale, 10);
  await note(stale, 'stale note', 10);
  // Active: its old messages, model call and note go, the recent ones and the conversation stay.
  const active = await conversation('whatsapp:+15550000002', 0);
  await message(active, 'user', 'active old 1', 9);
  await message(active, 'assistant', 'active old 2', 9);
  await message(active, 'user', 'active new 1', 1);
  await message(active, 'assistant', 'active new 2', 0);
  await modelCall(active, 9);
  await modelCall(active, 0);
  await note(active, 'active note', 0);
  // Inactive for 10 days but an operator wrote in it 2 days ago: kept, with that message.
  const late = await conversation('whatsapp:+15550000003', 10);
  await message(late, 'user', 'late old', 10);
  await message(late, 'assistant', 'late operator reply', 2);

  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const logs = captureLines();
  const deps = {
    db: file.testDb.database.db,
    queue,
    locks: createMemoryLocks(),
    log: createLogger({ level: 'info', destination: logs.stream }),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    channelFor: () => undefined,
    settings: pipelineSettings(),
  };
  const settings: SweepSettings = {
    strandedAfterMs: 60 * 86_400_000,
    sessionTimeoutMs: 60 * 86_400_000,
    webhookLogRetentionDays: 30,
    handoffIdleMs: 0,
    retentionDays: 0,
    // Two rows a statement, at most two statements a table per round.
    retentionBatches: { batchSize: 2, maxBatches: 2 },
  };
  // Each round takes the scheduler's lease afresh, as rounds a sweep interval apart do.
  const round = async (retentionDays: number) => {
    const result = await sweep({ ...deps, locks: createMemoryLocks() }, { ...settings, retentionDays }, 1000);
    if (!result) throw new Error('the sweep did not run');
    return result.retention;
  };
  try {
    // 0 keeps everything.
    expect(await round(0)).toMatchObject({ messages: 0, conversations: 0 });
    expect(await count('messages')).toBe(9);

    // The first round stops after two statements of two messages: a backlog is worked off over rounds.
    const metrics = createMetrics({ processMetrics: false });
    const first = await round(7);
    metrics.recordRetention(first);
    expect(first.messages).toBe(4);
    expect(await count('messages')).toBe(5);
    let total = first;
    for (let n = 0; n < 5; n++) {
      const next = await round(7);
      metrics.recordRetention(next);
      total = {
        messages: total.messages + next.messages,
        modelCalls: total.modelCalls + next.modelCalls,
        notes: total.notes + next.notes,
        conversations: total.conversations + next.conversations,
        mediaFiles: total.mediaFiles + next.mediaFiles,
      };
    }

    expect(total).toEqual({ messages: 6, modelCalls: 2, notes: 1, conversations: 1, mediaFiles: 0 });
    expect(await texts()).toEqual(['active new 1', 'active new 2', 'late operator reply']);
    const left = await file.pool.query<{ id: string }>('select id from conversations order by id');
    expect(left.rows.map((r) => r.id).sort()).toEqual([active, late].sort());
    expect(await count('model_calls')).toBe(1);
    expect(
      (await file.pool.query<{ body: string }>('select body from conversation_notes')).rows.map(
        (r) => r.body,
      ),
    ).toEqual(['active note']);
    // The deliveries of the deleted replies went with them; the recent reply's part stays.
    expect(await count('deliveries')).toBe(2);

    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('chatbot_retention_deleted_total{table="messages"} 6');
    expect(exposition).toContain('chatbot_retention_deleted_total{table="conversations"} 1');
    expect(exposition).toContain('chatbot_retention_deleted_total{table="model_calls"} 2');
    const sweepLines = logs.lines().filter((line) => line.msg === 'sweep');
    expect(sweepLines[0]?.retention).toEqual({
      messages: 4,
      modelCalls: expect.any(Number) as number,
      notes: expect.any(Number) as number,
      conversations: expect.any(Number) as number,
      mediaFiles: 0,
    });
  } finally {
    await queue.close();
  }
});

it("deletes an aged media message's stored files with it, and keeps a recent one's", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'retention-media-'));
  try {
    const media = createLocalMediaStore(dir);
    const id = await conversation('whatsapp:+15550000777', 1);
    const payload = JSON.stringify({
      content: { type: 'media', items: [{ kind: 'image', contentType: 'image/jpeg', reference: 'ME1' }] },
      context: {},
    });
    const insert = async (daysAgo: number) =>
      (
        await file.pool.query<{ id: string }>(
          `insert into messages (conversation_id, role, content, content_type, payload, created_at)
           values ($1, 'user', '[Image (image/jpeg)]', 'media', $2::jsonb, now() - make_interval(days => $3))
           returning id`,
          [id, payload, daysAgo],
        )
      ).rows[0]!.id;
    const [aged, recent] = [await insert(40), await insert(1)];
    await media.put(mediaKey(aged, 0), Buffer.from('old photo'), 'image/jpeg');
    await media.put(mediaKey(recent, 0), Buffer.from('new photo'), 'image/jpeg');

    const result = await applyRetention(file.testDb.database.db, 30, undefined, false, media);
    expect(result.mediaFiles).toBe(1);
    expect(await media.get(mediaKey(aged, 0))).toBeNull();
    expect((await media.get(mediaKey(recent, 0)))?.toString()).toBe('new photo');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
