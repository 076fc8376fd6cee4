/**
 * The admin pages' queries are planned on indexes, with the planner's own cost model (no `enable_seqscan =
 * off`): the database holds the bench dataset at a reduced size (bench/admin-dataset.ts: 100,000 messages over
 * 10 days, deliveries, delivery events, webhook logs; analyzed), large enough that a missing index shows as a
 * sequential scan of messages or deliveries. The statements are the ones the repository functions really send
 * (captured through a Drizzle logger, bench/explain.ts). What this proves: with realistic statistics PostgreSQL
 * picks the named index for each query. It does not time anything; docs/query-plans.md has the timings on
 * 3 million messages.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetStatements } from '../../bench/admin-dataset.js';
import { capturedStatements, explain, seqScannedTables } from '../../bench/explain.js';
import {
  conversationThread,
  dashboardFigures,
  listConversations,
  listWebhookLogs,
  recentProblems,
} from '../../src/db/admin-queries.js';
import type { Db } from '../../src/db/connect.js';
import { findConversationsByAddress } from '../../src/db/conversations.js';
import { needsHuman } from '../../src/db/inbox.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const BIG_TABLES = ['messages', 'deliveries', 'delivery_events', 'webhook_logs'];
const LONG_CONVERSATION = '00000000-0000-4000-8000-000000000000';

let testDb: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  testDb = await createTestDatabase();
  pool = new pg.Pool({ connectionString: testDb.url, max: 2 });
  for (const [, statement] of datasetStatements({ messages: 100_000, days: 10, longConversation: 2000 })) {
    await pool.query(statement);
  }
  // One conversation in a hundred waits for a human (the inbox's partial index holds only those).
  await pool.query(`update conversations set mode = 'human', handoff_at = last_activity_at,
    assignee_id = null where right(id::text, 2) = '05'`);
  await pool.query('vacuum analyze');
}, 120_000);

afterAll(async () => {
  await pool.end();
  await testDb.close();
});

/** The plans of every statement `run` sends. */
async function plansOf(run: (db: Db) => Promise<unknown>): Promise<string[]> {
  const statements = await capturedStatements(pool, run);
  return Promise.all(statements.map((statement) => explain(pool, statement, false)));
}

describe('admin query plans on 100,000 messages', () => {
  it.each<[string, (db: Db) => Promise<unknown>, string[]]>([
    [
      'dashboard figures',
      (db) => dashboardFigures(db),
      ['messages_role_created_idx', 'deliveries_failed_idx', 'webhook_logs_problem_idx'],
    ],
    ['recent problems', (db) => recentProblems(db), ['deliveries_failed_idx', 'messages_ai_fallback_idx']],
    [
      'conversation thread',
      (db) => conversationThread(db, LONG_CONVERSATION, 500),
      ['messages_conversation_created_idx', 'deliveries_message_part_key'],
    ],
    [
      'conversation list',
      (db) => listConversations(db, { filter: 'all', page: 1, pageSize: 50 }),
      ['conversations_last_activity_idx'],
    ],
    [
      'conversation list, searching message text',
      (db) => listConversations(db, { search: 'message 12345', filter: 'all', page: 1, pageSize: 25 }),
      ['messages_content_search_idx'],
    ],
    [
      'inbox, all waiting',
      (db) => needsHuman(db, { filter: 'all', userId: LONG_CONVERSATION }),
      ['conversations_human_idx', 'messages_conversation_created_idx'],
    ],
    [
      'inbox, unassigned',
      (db) => needsHuman(db, { filter: 'unassigned', userId: LONG_CONVERSATION }),
      ['conversations_human_idx'],
    ],
    [
      'webhook log, errors',
      (db) => listWebhookLogs(db, { status: 'error', page: 1, pageSize: 50 }),
      ['webhook_logs_problem_idx'],
    ],
    [
      'conversation by user address (API filter, CLI)',
      (db) => findConversationsByAddress(db, 'whatsapp:+1555000000042'),
      ['conversations_reply_address_idx', 'conversations_channel_user_business_key'],
    ],
  ])('%s: no sequential scan of a big table, and the plan uses %j', async (_name, run, indexes) => {
    const plans = await plansOf(run);
    const all = plans.join('\n');
    for (const plan of plans) expect(seqScannedTables(plan, BIG_TABLES), plan).toEqual([]);
    for (const index of indexes) expect(all).toContain(index);
  });
});
