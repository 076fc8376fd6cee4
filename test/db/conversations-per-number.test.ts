/**
 * Conversations keyed by (channel, person, business number): one person writing to two of our numbers has two
 * conversations, in the single and the batch accept statements alike, and the scoped-id move stays within one
 * number. Migration 0012 keeps the rows of a database migrated before it, with their keys.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboundBatcher } from '../../src/db/accept-inbound.js';
import { listConversations } from '../../src/db/admin-queries.js';
import { findConversationsByAddress, findOrCreateConversation } from '../../src/db/conversations.js';
import { acceptInbound } from '../../src/db/messages.js';
import { createEmptyTestDatabase, createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, rows, sender } from './fixtures.js';

const SALES = 'whatsapp:+14155238886';
const SUPPORT = 'whatsapp:+14155230000';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.close();
});

describe('conversations per business number', () => {
  it('the same person writing to two numbers gets two conversations, each found again by its number', async () => {
    const db = testDb.database.db;
    const person = sender();
    const toSales = await acceptInbound(db, inbound({ from: person, to: SALES }));
    const toSupport = await acceptInbound(db, inbound({ from: person, to: SUPPORT }));
    const again = await acceptInbound(db, inbound({ from: person, to: SALES }));
    expect(toSupport.conversationId).not.toBe(toSales.conversationId);
    expect(again.conversationId).toBe(toSales.conversationId);

    const both = await findConversationsByAddress(db, person);
    expect(both.map((c) => c.businessAddress).sort()).toEqual([SUPPORT, SALES].sort());
    const one = await findConversationsByAddress(db, person, { businessAddress: SUPPORT });
    expect(one.map((c) => c.id)).toEqual([toSupport.conversationId]);
  });

  it('a batch with one person writing to two numbers stores each message in its number’s conversation', async () => {
    const db = testDb.database.db;
    const person = sender();
    const sizes: number[] = [];
    const batcher = createInboundBatcher(db, { maxLanes: 1, onStatement: (size) => sizes.push(size) });
    // The first goes alone; the three sent while it runs form one batch statement.
    const first = batcher.accept(inbound({ from: person, to: SALES }), 'pending');
    const rest = [SUPPORT, SALES, SUPPORT].map((to) =>
      batcher.accept(inbound({ from: person, to }), 'pending'),
    );
    const ids = (await Promise.all([first, ...rest])).map((r) => r.conversationId);
    expect(sizes).toEqual([1, 3]);
    expect([ids[2], ids[3]]).toEqual([ids[0], ids[1]]);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('a scoped id is adopted per number: the conversation with the other number keeps the phone key', async () => {
    const db = testDb.database.db;
    const phone = sender();
    const scoped = `whatsapp:US.${phone.slice(-8)}`;
    const sales = await acceptInbound(db, inbound({ from: phone, to: SALES }));
    const support = await acceptInbound(db, inbound({ from: phone, to: SUPPORT }));
    const withId = await acceptInbound(db, inbound({ from: phone, userId: scoped, to: SALES }));
    expect(withId.conversationId).toBe(sales.conversationId);
    const keys = await testDb.database.db.execute(
      `select business_address, user_address from conversations where id in ('${sales.conversationId}', '${support.conversationId}') order by business_address`,
    );
    expect(rows(keys)).toEqual([
      { business_address: SUPPORT, user_address: phone },
      { business_address: SALES, user_address: scoped },
    ]);
  });

  it('a proactive conversation is made with the number it goes out from, beside the other number’s', async () => {
    const db = testDb.database.db;
    const person = sender();
    const existing = await acceptInbound(db, inbound({ from: person, to: SALES }));
    const fromSupport = await findOrCreateConversation(db, {
      channel: 'twilio',
      address: person,
      businessAddress: SUPPORT,
    });
    expect(fromSupport.created).toBe(true);
    expect(fromSupport.conversation.businessAddress).toBe(SUPPORT);
    const fromSales = await findOrCreateConversation(db, {
      channel: 'twilio',
      address: person,
      businessAddress: SALES,
    });
    expect(fromSales).toMatchObject({ created: false, conversation: { id: existing.conversationId } });
  });
});

describe('the admin conversation list', () => {
  it('shows which of our numbers each conversation is with', async () => {
    const db = testDb.database.db;
    const person = sender();
    await acceptInbound(db, inbound({ from: person, to: SUPPORT }));
    const listed = await listConversations(db, { search: person, page: 1, pageSize: 10 });
    expect(listed.items.map((c) => [c.userAddress, c.businessAddress])).toEqual([[person, SUPPORT]]);
  });
});

describe('migration 0012', () => {
  it('keeps the conversations of a database migrated before it, a missing number becoming the default', async () => {
    const empty = await createEmptyTestDatabase();
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    try {
      const folder = new URL('../../src/db/migrations/', import.meta.url);
      const files = readdirSync(folder)
        .filter((name) => name.endsWith('.sql'))
        .sort();
      const statements = (name: string) =>
        readFileSync(new URL(name, folder), 'utf8')
          .split('--> statement-breakpoint')
          .filter((s) => s.trim() !== '');
      const target = files.findIndex((name) => name.startsWith('0012_'));
      expect(target).toBeGreaterThan(0);
      for (const name of files.slice(0, target)) for (const s of statements(name)) await client.query(s);

      // Before 0012: a conversation with our number (every Twilio inbound had one) and one without.
      const old = await client.query<{ id: string }>(
        `insert into conversations (channel, user_address, business_address) values
           ('twilio', 'whatsapp:+14155550001', '${SALES}'), ('twilio', 'whatsapp:+14155550002', null)
         returning id`,
      );
      for (const s of statements(files[target] as string)) await client.query(s);

      const after = await client.query(
        'select id, user_address, business_address from conversations order by user_address',
      );
      expect(after.rows).toEqual([
        { id: old.rows[0]?.id, user_address: 'whatsapp:+14155550001', business_address: SALES },
        { id: old.rows[1]?.id, user_address: 'whatsapp:+14155550002', business_address: '' },
      ]);
      // The key is now per number: the same person with another number is a second row, the same pair is refused.
      await client.query(
        `insert into conversations (channel, user_address, business_address) values ('twilio', 'whatsapp:+14155550001', '${SUPPORT}')`,
      );
      await expect(
        client.query(
          `insert into conversations (channel, user_address, business_address) values ('twilio', 'whatsapp:+14155550001', '${SALES}')`,
        ),
      ).rejects.toMatchObject({ constraint: 'conversations_channel_user_business_key' });
      const column = await client.query(
        `select is_nullable, column_default from information_schema.columns
         where table_name = 'conversations' and column_name = 'business_address'`,
      );
      expect(column.rows).toEqual([{ is_nullable: 'NO', column_default: "''::text" }]);
    } finally {
      await client.end();
      await empty.drop();
    }
  });
});
