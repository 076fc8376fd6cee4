/** One person, one conversation: keyed on the scoped user id when the channel gives one; replies to the sender. */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConversation } from '../../src/db/conversations.js';
import { acceptInbound, pendingInbound } from '../../src/db/messages.js';
import type { Db } from '../../src/db/connect.js';
import { conversations, messages } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, sender } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(() => testDb.close());

const scopedId = () => `whatsapp:CO.${String(Math.floor(Math.random() * 1e15))}`;

describe('user identity across address changes', () => {
  it('a user who moves from a phone number to a scoped id keeps one conversation; replies follow the sender', async () => {
    const phone = sender();
    const bsuid = scopedId();
    // Before the channel sent ExternalUserId: keyed on the phone number.
    const first = await acceptInbound(db, inbound({ from: phone, body: 'one' }));
    // Phone number and scoped id together: the conversation moves to the scoped id, replies still go to the phone.
    const second = await acceptInbound(db, inbound({ from: phone, userId: bsuid, body: 'two' }));
    expect(second.conversationId).toBe(first.conversationId);
    expect(await getConversation(db, first.conversationId)).toMatchObject({
      userAddress: bsuid,
      replyAddress: phone,
    });
    // The scoped id alone (the user hid their number): same conversation, replies to exactly that address.
    const third = await acceptInbound(db, inbound({ from: bsuid, userId: bsuid, body: 'three' }));
    expect(third.conversationId).toBe(first.conversationId);
    expect(await getConversation(db, first.conversationId)).toMatchObject({
      userAddress: bsuid,
      replyAddress: bsuid,
    });
    expect((await pendingInbound(db, first.conversationId)).map((m) => m.content)).toEqual([
      'one',
      'two',
      'three',
    ]);
    const rows = await db.select().from(conversations).where(eq(conversations.userAddress, bsuid));
    expect(rows).toHaveLength(1);
  });

  it('a scoped id seen first keys its own conversation; a later phone address with it joins that one', async () => {
    const bsuid = scopedId();
    const phone = sender();
    const first = await acceptInbound(db, inbound({ from: bsuid, userId: bsuid, body: 'hidden' }));
    // The phone number had an older conversation of its own: the scoped id's conversation wins, the old one stays.
    const older = await acceptInbound(db, inbound({ from: phone, body: 'old' }));
    const joined = await acceptInbound(db, inbound({ from: phone, userId: bsuid, body: 'shown' }));
    expect(joined.conversationId).toBe(first.conversationId);
    expect(older.conversationId).not.toBe(first.conversationId);
    expect((await getConversation(db, first.conversationId))?.replyAddress).toBe(phone);
  });

  it('stores the typed content and its context with the message', async () => {
    const message = inbound({
      body: '📍 Harrow Club',
      content: { type: 'location', latitude: 51.5, longitude: -0.2, name: 'The Harrow Club' },
      context: { forwarded: 'once' },
    });
    const { messageId } = await acceptInbound(db, message);
    const [row] = await db.select().from(messages).where(eq(messages.id, messageId));
    expect(row).toMatchObject({
      contentType: 'location',
      content: '📍 Harrow Club',
      payload: {
        content: { type: 'location', latitude: 51.5, longitude: -0.2, name: 'The Harrow Club' },
        context: { forwarded: 'once' },
      },
    });
  });
});
