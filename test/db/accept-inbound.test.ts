import { eq, inArray } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboundBatcher, type InboundBatcher } from '../../src/db/accept-inbound.js';
import { openDatabase, type Db } from '../../src/db/connect.js';
import { conversations, messages } from '../../src/db/schema.js';
import type { InboundMessage } from '../../src/domain/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, sender } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

/** A batcher that runs one statement at a time, so everything sent while it runs forms the next batch. */
function batcher(): { batcher: InboundBatcher; statements: number[] } {
  const statements: number[] = [];
  return {
    batcher: createInboundBatcher(db, { maxLanes: 1, onStatement: (size) => statements.push(size) }),
    statements,
  };
}

/** Another session holding a conversation's row lock until release(). */
async function lockConversation(conversationId: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: testDb.url });
  await holder.connect();
  await holder.query('begin');
  await holder.query('select 1 from conversations where id = $1 for update', [conversationId]);
  return {
    async release() {
      await holder.query('commit');
      await holder.end();
    },
  };
}

async function storedRows(ids: string[]) {
  return db.select().from(messages).where(inArray(messages.id, ids));
}

describe('natural batching of inbound messages', () => {
  it('stores messages sent while a statement runs together, each with its own ids, in arrival order', async () => {
    const { batcher: acceptor, statements } = batcher();
    const senders = [sender(), sender(), sender()];
    const sent: InboundMessage[] = [];
    for (let i = 0; i < 12; i += 1)
      sent.push(inbound({ from: senders[i % 3] as string, body: `message ${i}`, metadata: { n: i } }));

    const accepted = await Promise.all(sent.map((message) => acceptor.accept(message, 'pending')));

    // The first went alone; the eleven that arrived while it ran shared one statement.
    expect(statements).toEqual([1, 11]);
    expect(accepted.every((a) => !a.duplicate)).toBe(true);
    expect(new Set(accepted.map((a) => a.messageId)).size).toBe(12);
    const rows = await storedRows(accepted.map((a) => a.messageId));
    const byId = new Map(rows.map((row) => [row.id, row]));
    sent.forEach((message, i) => {
      const row = byId.get(accepted[i]?.messageId as string);
      expect(row).toMatchObject({
        content: message.body,
        providerMessageId: message.providerMessageId,
        processingStatus: 'pending',
        conversationId: accepted[i]?.conversationId,
        role: 'user',
      });
      expect(row?.metadata).toEqual({ n: i });
    });
    // One conversation per sender, and each sender's messages in the order they arrived.
    for (const from of senders) {
      const ids = accepted.filter((_, i) => sent[i]?.from === from);
      expect(new Set(ids.map((a) => a.conversationId)).size).toBe(1);
      const ordered = await db
        .select({ content: messages.content })
        .from(messages)
        .where(eq(messages.conversationId, ids[0]?.conversationId as string))
        .orderBy(messages.createdAt, messages.id);
      expect(ordered.map((row) => row.content)).toEqual(
        sent.filter((m) => m.from === from).map((m) => m.body),
      );
    }
  });

  it('stores text PostgreSQL would refuse in JSON (U+0000, a lone surrogate) cleaned, without failing the batch', async () => {
    const { batcher: acceptor, statements } = batcher();
    const odd = inbound({
      body: 'nul\u0000 and \ud800 alone',
      profileName: 'A\u0000da',
      metadata: { k: '\udc00' },
    });
    const [, stored] = await Promise.all([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(odd, 'pending'),
      acceptor.accept(inbound(), 'pending'),
    ]);
    expect(statements).toEqual([1, 2]);
    const [row] = await storedRows([stored.messageId]);
    expect(row?.content).toBe('nul and \ufffd alone');
    expect(row?.metadata).toEqual({ k: '\ufffd' });
  });

  it('keeps each message its own status', async () => {
    const { batcher: acceptor } = batcher();
    const statuses = ['pending', 'skipped', 'answered', 'pending'] as const;
    const accepted = await Promise.all(statuses.map((status) => acceptor.accept(inbound(), status)));
    const rows = await storedRows(accepted.map((a) => a.messageId));
    const byId = new Map(rows.map((row) => [row.id, row.processingStatus]));
    expect(accepted.map((a) => byId.get(a.messageId))).toEqual([...statuses]);
  });

  it('answers a provider id seen twice in one batch, or stored before, as a redelivery of the first copy', async () => {
    const { batcher: acceptor, statements } = batcher();
    const earlier = inbound({ body: 'stored before' });
    const stored = await acceptor.accept(earlier, 'pending');
    const twice = inbound({ body: 'sent twice' });
    const [first, , again, redelivered, other] = await Promise.all([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(twice, 'pending'),
      acceptor.accept({ ...twice, body: 'the retry' }, 'pending'),
      acceptor.accept({ ...earlier, body: 'changed on redelivery' }, 'pending'),
      acceptor.accept(inbound(), 'pending'),
    ]);
    // One statement for the five: the retry of `twice` is not sent.
    expect(statements).toEqual([1, 4]);
    expect(first.duplicate).toBe(false);
    expect(other.duplicate).toBe(false);
    expect(redelivered).toEqual({ ...stored, duplicate: true });
    const copies = await db
      .select()
      .from(messages)
      .where(eq(messages.providerMessageId, twice.providerMessageId));
    expect(copies.map((row) => row.content)).toEqual(['sent twice']);
    expect(again).toEqual({
      conversationId: copies[0]?.conversationId,
      messageId: copies[0]?.id,
      duplicate: true,
    });
    const [kept] = await storedRows([stored.messageId]);
    expect(kept?.content).toBe('stored before');
  });

  it('gives a sender with several messages in a batch the latest profile name it sent', async () => {
    const { batcher: acceptor } = batcher();
    const from = sender();
    const [, a, b] = await Promise.all([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(inbound({ from, profileName: 'Ada' }), 'pending'),
      acceptor.accept(inbound({ from, profileName: null }), 'pending'),
    ]);
    expect(a.conversationId).toBe(b.conversationId);
    const [conversation] = await db
      .select()
      .from(conversations)
      .where(eq(conversations.id, a.conversationId));
    expect(conversation).toMatchObject({ profileName: 'Ada', businessAddress: 'whatsapp:+14155238886' });

    await Promise.all([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(inbound({ from, profileName: 'Ada L.' }), 'pending'),
      acceptor.accept(inbound({ from, profileName: 'Ada Lovelace' }), 'pending'),
    ]);
    const [renamed] = await db.select().from(conversations).where(eq(conversations.id, a.conversationId));
    expect(renamed?.profileName).toBe('Ada Lovelace');
  });

  it('fails only the message PostgreSQL refuses: the others of its batch are stored', async () => {
    const { batcher: acceptor, statements } = batcher();
    const from = sender();
    const good = [1, 2, 3].map((n) => inbound({ from, body: `good ${n}` }));
    const bad = inbound({ channel: 'carrier-pigeon' as InboundMessage['channel'] });
    const results = await Promise.allSettled([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(good[0] as InboundMessage, 'pending'),
      acceptor.accept(bad, 'pending'),
      acceptor.accept(good[1] as InboundMessage, 'pending'),
      acceptor.accept(good[2] as InboundMessage, 'pending'),
    ]);
    // The batch of four was refused as a whole, then each went alone.
    expect(statements).toEqual([1, 4, 1, 1, 1, 1]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/check constraint/);
    const stored = await db
      .select({ sid: messages.providerMessageId })
      .from(messages)
      .where(
        inArray(
          messages.providerMessageId,
          [...good, bad].map((m) => m.providerMessageId),
        ),
      );
    expect(stored.map((row) => row.sid).sort()).toEqual(good.map((m) => m.providerMessageId).sort());
    // Retried one at a time, so the sender's messages keep their order.
    const inOrder = await db
      .select({ content: messages.content })
      .from(messages)
      .where(
        eq(
          messages.conversationId,
          (results[1] as PromiseFulfilledResult<{ conversationId: string }>).value.conversationId,
        ),
      )
      .orderBy(messages.createdAt, messages.id);
    expect(inOrder.map((row) => row.content)).toEqual(['good 1', 'good 2', 'good 3']);
  });

  it('opens another lane when the running statement is stuck, so one locked sender does not hold up the rest', async () => {
    const statements: number[] = [];
    const acceptor = createInboundBatcher(db, {
      maxLanes: 2,
      slowMs: 25,
      onStatement: (size) => statements.push(size),
    });
    const locked = inbound();
    const before = await acceptor.accept(locked, 'pending');
    // Another session holds the conversation's row lock (an admin edit, a long transaction).
    const holder = await lockConversation(before.conversationId);
    const stuck = acceptor.accept(inbound({ from: locked.from }), 'pending');
    const others = await Promise.all([
      acceptor.accept(inbound(), 'pending'),
      acceptor.accept(inbound(), 'pending'),
    ]);
    expect(others.every((accepted) => !accepted.duplicate)).toBe(true);
    let stuckDone = false;
    void stuck.then(() => (stuckDone = true));
    // Still waiting for the lock, while the others were stored beside it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stuckDone).toBe(false);
    await holder.release();
    expect((await stuck).conversationId).toBe(before.conversationId);
    expect(statements).toEqual([1, 1, 2]);
  });

  it('fails a message as "database unavailable" when it waited too long behind stuck statements', async () => {
    const acceptor = createInboundBatcher(db, { maxLanes: 1, maxWaitMs: 100 });
    const locked = inbound();
    const before = await acceptor.accept(locked, 'pending');
    const holder = await lockConversation(before.conversationId);
    const stuck = acceptor.accept(inbound({ from: locked.from }), 'pending');
    const behind = inbound();
    await expect(acceptor.accept(behind, 'pending')).rejects.toMatchObject({ kind: 'database_unavailable' });
    await holder.release();
    expect((await stuck).conversationId).toBe(before.conversationId);
    // Nothing of the failed message was stored: the channel's retry stores it.
    const rows = await db
      .select()
      .from(messages)
      .where(eq(messages.providerMessageId, behind.providerMessageId));
    expect(rows).toEqual([]);
  });

  it('fails every message of a batch when the database does not answer, without retrying each', async () => {
    const unreachable = await openDatabase({
      kind: 'postgres',
      url: 'postgresql://postgres@127.0.0.1:1/nowhere',
      poolSize: 2,
    });
    try {
      const statements: number[] = [];
      const acceptor = createInboundBatcher(unreachable.db, {
        maxLanes: 1,
        onStatement: (size) => statements.push(size),
      });
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => acceptor.accept(inbound(), 'pending')));
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/ECONNREFUSED/);
      expect(statements).toEqual([1, 3]);
    } finally {
      await unreachable.close();
    }
  });
});
