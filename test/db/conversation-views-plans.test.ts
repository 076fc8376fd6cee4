/**
 * The API's reads (src/db/conversation-views.ts) are planned on indexes, as the admin's are
 * (test/db/admin-query-plans.test.ts, same dataset and method): first pages, cursor pages and the mode filter
 * read no big table sequentially, and the `user` filter probes the reply-address index and the per-channel key.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetStatements } from '../../bench/admin-dataset.js';
import { capturedStatements, explain, seqScannedTables } from '../../bench/explain.js';
import type { Db } from '../../src/db/connect.js';
import { findConversations, findMessages, type Keyset } from '../../src/db/conversation-views.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const BIG_TABLES = ['messages', 'deliveries', 'delivery_events', 'webhook_logs'];
const LONG_CONVERSATION = '00000000-0000-4000-8000-000000000000';

let testDb: TestDatabase;
let pool: pg.Pool;
let conversationKey: Keyset;
let messageKey: Keyset;

beforeAll(async () => {
  testDb = await createTestDatabase();
  pool = new pg.Pool({ connectionString: testDb.url, max: 2 });
  for (const [, statement] of datasetStatements({ messages: 100_000, days: 10, longConversation: 2000 })) {
    await pool.query(statement);
  }
  await pool.query('vacuum analyze');
  const db = testDb.database.db;
  conversationKey = (await findConversations(db, { limit: 50 })).at(-1)!.key;
  messageKey = (await findMessages(db, { conversationId: LONG_CONVERSATION, limit: 500 })).at(-1)!.key;
}, 120_000);

afterAll(async () => {
  await pool.end();
  await testDb.close();
});

describe('API read plans on 100,000 messages', () => {
  it.each<[string, (db: Db) => Promise<unknown>, string[]]>([
    [
      'conversations, first page',
      (db) => findConversations(db, { limit: 51 }),
      ['conversations_last_activity_idx'],
    ],
    [
      'conversations, a cursor page',
      (db) => findConversations(db, { limit: 51, after: conversationKey }),
      ['conversations_last_activity_idx'],
    ],
    [
      'conversations of one user address',
      (db) => findConversations(db, { limit: 51, user: 'whatsapp:+1555000000042' }),
      ['conversations_reply_address_idx', 'conversations_channel_user_business_key'],
    ],
    ['conversations in human mode', (db) => findConversations(db, { limit: 51, mode: 'human' }), []],
    [
      'messages, newest page',
      (db) => findMessages(db, { conversationId: LONG_CONVERSATION, limit: 501 }),
      ['messages_conversation_created_idx', 'deliveries_message_part_key'],
    ],
    [
      'messages, an older page',
      (db) => findMessages(db, { conversationId: LONG_CONVERSATION, limit: 501, before: messageKey }),
      ['messages_conversation_created_idx'],
    ],
  ])('%s: no sequential scan of a big table, and the plan uses %j', async (_name, run, indexes) => {
    const statements = await capturedStatements(pool, run);
    const plans = await Promise.all(statements.map((statement) => explain(pool, statement, false)));
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) expect(seqScannedTables(plan, BIG_TABLES), plan).toEqual([]);
    for (const index of indexes) expect(plans.join('\n')).toContain(index);
  });
});
