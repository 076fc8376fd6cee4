/**
 * deleteAgedConversations through applyRetention, on a real PostgreSQL: a round examines only the conversations
 * whose messages or notes it deleted (a conversation the business keeps writing to is not scanned every round),
 * and the scheduler's first round (catch-up) examines every inactive one.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { rowsOf } from '../../src/db/rows.js';
import { applyRetention } from '../../src/pipeline/retention.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
});
afterAll(() => database.close());

async function conversation(lastActivityDaysAgo: number): Promise<string> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`insert into conversations (channel, user_address, last_activity_at)
      values ('twilio', ${`whatsapp:+1555${String(Math.random()).slice(2, 9)}`},
        now() - make_interval(days => ${lastActivityDaysAgo})) returning id`),
  );
  return rows[0]!.id;
}

async function outbound(conversationId: string, daysAgo: number): Promise<void> {
  await db.execute(sql`insert into messages (conversation_id, role, content, created_at)
    values (${conversationId}, 'assistant', '[template HX…]', now() - make_interval(days => ${daysAgo}))`);
}

async function exists(id: string): Promise<boolean> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from conversations where id = ${id}`),
  );
  return rows[0]?.n === 1;
}

describe('retention of conversations', () => {
  it('a round deletes the conversations it emptied and keeps one the business still writes to', async () => {
    const emptied = await conversation(60);
    await outbound(emptied, 45);
    const stillWritten = await conversation(60);
    await outbound(stillWritten, 45);
    await outbound(stillWritten, 2);

    const result = await applyRetention(db, 30);
    expect(result.messages).toBeGreaterThanOrEqual(2);
    expect(await exists(emptied)).toBe(false);
    expect(await exists(stillWritten)).toBe(true);
  });

  it('only the first round (catch-up) examines inactive conversations it did not empty', async () => {
    // Emptied by a round that died before its conversation step: nothing of it is deleted any more.
    const leftBehind = await conversation(60);
    await applyRetention(db, 30);
    expect(await exists(leftBehind)).toBe(true);
    await applyRetention(db, 30, undefined, true);
    expect(await exists(leftBehind)).toBe(false);
  });
});
