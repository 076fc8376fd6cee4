/**
 * What the admin pages load: a thread page reads the delivery parts of the messages it shows and no others (the
 * row counts come from EXPLAIN ANALYZE, i.e. from PostgreSQL itself), and the lists count only up to COUNT_CAP.
 */
import { describe, expect, it } from 'vitest';
import { capturedStatements, explain } from '../../bench/explain.js';
import { conversationThread, COUNT_CAP, listWebhookLogs } from '../../src/db/admin-queries.js';
import type { Db } from '../../src/db/connect.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import { rows, sender } from './fixtures.js';

const file = databaseForFile({ poolSize: 4 });

/**
 * Rows PostgreSQL read from `deliveries` while running everything `run` sends (EXPLAIN ANALYZE of each
 * statement: each plan node's rows times its loops).
 */
async function deliveryRowsRead(run: (db: Db) => Promise<unknown>): Promise<number> {
  let read = 0;
  for (const statement of await capturedStatements(file.pool, run)) {
    const plan = await explain(file.pool, statement, true);
    for (const line of plan.split('\n').filter((l) => / on deliveries\b/.test(l))) {
      const actual = /actual time=\S+ rows=(\d+) loops=(\d+)/.exec(line);
      read += actual ? Number(actual[1]) * Number(actual[2]) : 0;
    }
  }
  return read;
}

/** A conversation of `pairs` inbound messages, each answered by a reply sent in two parts; returns its id. */
async function conversationWithReplies(pairs: number): Promise<string> {
  const [conversation] = rows<{ id: string }>(
    await file.pool.query(
      `insert into conversations (channel, user_address) values ('twilio', $1) returning id`,
      [sender()],
    ),
  );
  const id = conversation!.id;
  await file.pool.query(
    `with inbound as (
       insert into messages (conversation_id, role, content, processing_status, created_at)
       select $1, 'user', 'question ' || i, 'answered', now() - make_interval(mins => 100 - 2 * i)
       from generate_series(1, $2) i returning id
     ), replies as (
       insert into messages (conversation_id, role, content, created_at)
       select $1, 'assistant', 'answer ' || i, now() - make_interval(mins => 99 - 2 * i)
       from generate_series(1, $2) i returning id, content
     )
     insert into deliveries (message_id, conversation_id, part_index, part_count, body, to_address, status)
     select r.id, $1, p, 2, r.content || ' part ' || p, 'whatsapp:+15550000000', 'delivered'
     from replies r cross join generate_series(0, 1) p`,
    [id, pairs],
  );
  return id;
}

describe('conversation thread', () => {
  it('reads the delivery parts of the messages on the page only, each under its own message', async () => {
    const id = await conversationWithReplies(10);
    const thread = await conversationThread(file.testDb.database.db, id, 4);

    expect(thread.total).toBe(20);
    expect(thread.messages.map((m) => m.content)).toEqual([
      'question 9',
      'answer 9',
      'question 10',
      'answer 10',
    ]);
    expect(thread.messages[3]!.deliveries).toMatchObject([
      { partIndex: 0, partCount: 2, status: 'delivered' },
      { partIndex: 1, partCount: 2, status: 'delivered' },
    ]);
    expect(thread.messages[3]!.deliveries[0]!.updatedAt).toBeInstanceOf(Date);
    expect(thread.messages[2]!.deliveries).toEqual([]);
    // Two replies shown, two parts each: PostgreSQL reads 4 rows of deliveries, not the conversation's 20.
    expect(await deliveryRowsRead((db) => conversationThread(db, id, 4))).toBe(4);
  });

  it('an empty conversation has no messages and reads no deliveries', async () => {
    const [conversation] = rows<{ id: string }>(
      await file.pool.query(
        `insert into conversations (channel, user_address) values ('twilio', $1) returning id`,
        [sender()],
      ),
    );
    expect(await conversationThread(file.testDb.database.db, conversation!.id, 50)).toEqual({
      messages: [],
      total: 0,
    });
    expect(await deliveryRowsRead((db) => conversationThread(db, conversation!.id, 50))).toBe(0);
  });
});

describe('list counts', () => {
  it(`count up to ${COUNT_CAP} and say when there are more`, async () => {
    await file.pool.query(
      `insert into webhook_logs (channel, kind, method, path, response_status, processing_time_ms)
       select 'twilio', 'status', 'POST', '/api/whatsapp/status/', case when i <= 3 then 500 else 200 end, 1
       from generate_series(1, $1) i`,
      [COUNT_CAP + 5],
    );
    const all = await listWebhookLogs(file.testDb.database.db, { status: 'all', page: 1, pageSize: 50 });
    expect(all).toMatchObject({ total: COUNT_CAP, totalCapped: true });
    expect(all.items).toHaveLength(50);
    const errors = await listWebhookLogs(file.testDb.database.db, {
      status: 'server-error',
      page: 1,
      pageSize: 50,
    });
    expect(errors).toMatchObject({ total: 3, totalCapped: false });
  });
});
