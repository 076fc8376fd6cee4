import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import {
  conversationForWork,
  expireIdleConversations,
  getConversation,
  resetContext,
  setConversationMode,
} from '../../src/db/conversations.js';
import { acceptInbound, recordSent, saveReply } from '../../src/db/messages.js';
import { conversations } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, plainReply, sender, sid } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

describe('conversations', () => {
  it('returns null for an unknown id', async () => {
    expect(await getConversation(db, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('conversationForWork says whether a part of this conversation, and only this one, is unsent', async () => {
    const a = await acceptInbound(db, inbound());
    const b = await acceptInbound(db, inbound());
    expect(await conversationForWork(db, a.conversationId)).toMatchObject({ hasUnsentParts: false });
    const saved = await saveReply(db, plainReply(a.conversationId, [a.messageId], ['one.', 'two.']));
    expect(await conversationForWork(db, a.conversationId)).toMatchObject({
      id: a.conversationId,
      hasUnsentParts: true,
    });
    expect(await conversationForWork(db, b.conversationId)).toMatchObject({ hasUnsentParts: false });
    for (const part of saved.parts) await recordSent(db, part.id, sid(), 'queued');
    expect(await conversationForWork(db, a.conversationId)).toMatchObject({ hasUnsentParts: false });
    expect(await conversationForWork(db, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('conversationForWork brings the pending batch in arrival order, and whether any reply exists', async () => {
    const from = sender();
    const first = await acceptInbound(db, inbound({ from, body: 'one', metadata: { numMedia: 0 } }));
    const second = await acceptInbound(db, inbound({ from, body: 'two' }));
    const work = await conversationForWork(db, first.conversationId);
    expect(work?.hasReplies).toBe(false);
    expect(work?.pending.map((m) => [m.id, m.content])).toEqual([
      [first.messageId, 'one'],
      [second.messageId, 'two'],
    ]);
    expect(work?.pending[0]).toMatchObject({ metadata: { numMedia: 0 } });
    expect(work?.pending[0]?.createdAt).toBeInstanceOf(Date);

    await saveReply(db, plainReply(first.conversationId, [first.messageId, second.messageId], ['ok.']));
    const after = await conversationForWork(db, first.conversationId);
    expect(after).toMatchObject({ hasReplies: true, pending: [], userAddress: from });
  });

  it('switches the conversation between bot, human and paused', async () => {
    const { conversationId } = await acceptInbound(db, inbound());
    expect((await getConversation(db, conversationId))?.mode).toBe('bot');
    expect(await setConversationMode(db, conversationId, 'human')).toBe(true);
    expect((await getConversation(db, conversationId))?.mode).toBe('human');
    await setConversationMode(db, conversationId, 'paused');
    expect((await getConversation(db, conversationId))?.mode).toBe('paused');
    await setConversationMode(db, conversationId, 'bot');
    expect((await getConversation(db, conversationId))?.mode).toBe('bot');
    expect(await setConversationMode(db, '00000000-0000-4000-8000-000000000000', 'paused')).toBe(false);
  });

  it('resetContext records when the context was reset', async () => {
    const { conversationId } = await acceptInbound(db, inbound());
    const before = Date.now();
    await resetContext(db, conversationId);
    const resetAt = (await getConversation(db, conversationId))?.contextResetAt;
    expect(resetAt).toBeInstanceOf(Date);
    // Database and test share the machine's clock; allow for rounding to the millisecond.
    expect(resetAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('expires conversations idle longer than the limit, and a new message reactivates one', async () => {
    const from = sender();
    const idle = await acceptInbound(db, inbound({ from }));
    const busy = await acceptInbound(db, inbound());
    await db
      .update(conversations)
      .set({ lastActivityAt: new Date(Date.now() - 2 * 3_600_000) })
      .where(eq(conversations.id, idle.conversationId));

    expect(await expireIdleConversations(db, 3_600_000)).toBeGreaterThanOrEqual(1);
    expect((await getConversation(db, idle.conversationId))?.isActive).toBe(false);
    expect((await getConversation(db, busy.conversationId))?.isActive).toBe(true);
    // Already inactive: not counted again.
    expect(await expireIdleConversations(db, 3_600_000)).toBe(0);

    await acceptInbound(db, inbound({ from }));
    expect((await getConversation(db, idle.conversationId))?.isActive).toBe(true);
  });
});
