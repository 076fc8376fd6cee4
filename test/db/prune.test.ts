/**
 * Retention deletes (db/prune.ts): delivery_events and webhook_logs older than the retention go, oldest first,
 * in statements of at most `batchSize` rows and at most `maxBatches` of them per call; recent rows stay.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { capturedStatements } from '../../bench/explain.js';
import { pruneDeliveryEvents } from '../../src/db/deliveries.js';
import { pruneWebhookLogs } from '../../src/db/webhook-logs.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import { rows } from './fixtures.js';

const file = databaseForFile();

beforeEach(async () => {
  await file.pool.query('truncate delivery_events, webhook_logs');
});

/** `old` events received 31…(30 + old) days ago (SMold1 the newest of them) and `recent` received today. */
async function seedEvents(old: number, recent: number): Promise<void> {
  await file.pool.query(
    `insert into delivery_events (provider_message_id, status, received_at)
     select 'SMold' || i, 'delivered', now() - make_interval(days => 30 + i) from generate_series(1, $1) i
     union all
     select 'SMnew' || i, 'delivered', now() - make_interval(mins => i) from generate_series(1, $2) i`,
    [old, recent],
  );
}

async function eventIds(): Promise<string[]> {
  const result = await file.pool.query('select provider_message_id as id from delivery_events order by id');
  return rows<{ id: string }>(result).map((r) => r.id);
}

describe('pruneDeliveryEvents', () => {
  it('deletes the events older than the retention and keeps the recent ones', async () => {
    await seedEvents(4, 3);
    expect(await pruneDeliveryEvents(file.testDb.database.db, 30)).toBe(4);
    expect(await eventIds()).toEqual(['SMnew1', 'SMnew2', 'SMnew3']);
    expect(await pruneDeliveryEvents(file.testDb.database.db, 30)).toBe(0);
  });

  it('works in batches: at most batchSize rows a statement, maxBatches statements a call, oldest first', async () => {
    await seedEvents(10, 2);
    const batches = { batchSize: 3, maxBatches: 2 };
    let pruned = 0;
    const statements = await capturedStatements(file.pool, async (db) => {
      pruned = await pruneDeliveryEvents(db, 30, batches);
    });
    expect(pruned).toBe(6);
    expect(statements.filter((s) => /delete from delivery_events/i.test(s.query))).toHaveLength(2);
    // The six oldest (SMold5…SMold10) went; the next call takes the rest.
    expect(await eventIds()).toEqual(['SMnew1', 'SMnew2', 'SMold1', 'SMold2', 'SMold3', 'SMold4']);
    expect(await pruneDeliveryEvents(file.testDb.database.db, 30, batches)).toBe(4);
    expect(await pruneDeliveryEvents(file.testDb.database.db, 30, batches)).toBe(0);
    expect(await eventIds()).toEqual(['SMnew1', 'SMnew2']);
  });
});

describe('pruneWebhookLogs', () => {
  it('works in batches too, and keeps the recent rows', async () => {
    await file.pool.query(
      `insert into webhook_logs (channel, kind, method, path, response_status, processing_time_ms, created_at)
       select 'twilio', 'status', 'POST', '/api/whatsapp/status/', 200, 1,
         case when i <= 7 then now() - interval '40 days' else now() end
       from generate_series(1, 10) i`,
    );
    const batches = { batchSize: 2, maxBatches: 3 };
    expect(await pruneWebhookLogs(file.testDb.database.db, 30, batches)).toBe(6);
    expect(await pruneWebhookLogs(file.testDb.database.db, 30, batches)).toBe(1);
    const left = await file.pool.query(
      `select count(*)::int as n from webhook_logs where created_at > now() - interval '1 day'`,
    );
    expect(rows<{ n: number }>(left)[0]?.n).toBe(3);
    const all = await file.pool.query('select count(*)::int as n from webhook_logs');
    expect(rows<{ n: number }>(all)[0]?.n).toBe(3);
  });
});
