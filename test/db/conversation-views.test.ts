import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { findConversations, findMessages, type Keyset } from '../../src/db/conversation-views.js';
import { rowsOf } from '../../src/db/rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

describe('conversation views: keyset pages', () => {
  it('pages through conversations with the same activity time (one statement, one now()) each once', async () => {
    await db.execute(`insert into conversations (channel, user_address, last_activity_at)
      select 'twilio', 'whatsapp:+1555000' || n, '2026-01-01 10:00:00.123456+00' from generate_series(1, 5) n`);
    await db.execute(`insert into conversations (channel, user_address, last_activity_at)
      values ('twilio', 'whatsapp:+1555999', '2026-01-01 10:00:00.123457+00')`);
    const seen: string[] = [];
    let after: Keyset | undefined;
    for (;;) {
      const page = await findConversations(db, { limit: 2, after });
      seen.push(...page.map((c) => c.user));
      const last = page.at(-1);
      if (page.length < 2 || !last) break;
      after = last.key;
    }
    // A microsecond apart is newer: a cursor cut to milliseconds would have skipped or repeated rows here.
    expect(seen[0]).toBe('whatsapp:+1555999');
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it('pages back through messages with the same creation time, newest first, each once', async () => {
    const result = await db.execute(
      `insert into conversations (channel, user_address) values ('twilio', 'whatsapp:+1555777') returning id`,
    );
    const conversationId = rowsOf<{ id: string }>(result)[0]!.id;
    await db.execute(`insert into messages (conversation_id, role, content, processing_status, created_at)
      select '${conversationId}', 'user', 'm' || n, 'answered', '2026-01-01 10:00:00+00' from generate_series(1, 5) n`);
    const seen: string[] = [];
    let before: Keyset | undefined;
    for (;;) {
      const page = await findMessages(db, { conversationId, limit: 2, before });
      seen.push(...page.map((m) => m.content));
      const last = page.at(-1);
      if (page.length < 2 || !last) break;
      before = last.key;
    }
    expect(seen.sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });
});
