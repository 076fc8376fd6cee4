import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { getConversation } from '../../src/db/conversations.js';
import {
  acceptInbound,
  markInbound,
  pendingInbound,
  saveReply,
  saveReplyUnlessNewer,
  sessionTurns,
  strandedWork,
  unsentDeliveries,
  type ReplyInput,
} from '../../src/db/messages.js';
import { conversations, deliveries, messages } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, plainReply, rows, sender } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

function reply(
  conversationId: string,
  answeredIds: string[],
  overrides: Partial<ReplyInput> = {},
): ReplyInput {
  return {
    conversationId,
    answeredIds,
    content: 'part one. part two.',
    parts: ['part one.', 'part two.'],
    to: 'whatsapp:+14155550100',
    from: 'whatsapp:+14155238886',
    model: 'gpt-test',
    provider: 'openai',
    usage: { inputTokens: 12, outputTokens: 7 },
    latencyMs: 850,
    errorKind: null,
    ...overrides,
  };
}

/** One answered user message and its reply, in a conversation of `from`. */
async function exchange(
  from: string,
  text: string,
): Promise<{ conversationId: string; userId: string; replyId: string }> {
  const accepted = await acceptInbound(db, inbound({ from, body: text }));
  const saved = await saveReply(
    db,
    reply(accepted.conversationId, [accepted.messageId], { content: `re: ${text}` }),
  );
  return { conversationId: accepted.conversationId, userId: accepted.messageId, replyId: saved.replyId };
}

async function setCreatedAt(ids: string[], at: Date): Promise<void> {
  await db.update(messages).set({ createdAt: at }).where(inArray(messages.id, ids));
}

describe('acceptInbound', () => {
  it('creates the conversation of a new sender and stores the message as pending', async () => {
    const message = inbound({ body: 'hi there', metadata: { numMedia: 0, waId: '14155550100' } });
    const accepted = await acceptInbound(db, message);
    expect(accepted.duplicate).toBe(false);

    const conversation = await getConversation(db, accepted.conversationId);
    expect(conversation).toMatchObject({
      channel: 'twilio',
      userAddress: message.from,
      businessAddress: 'whatsapp:+14155238886',
      profileName: 'Ada',
      isActive: true,
      mode: 'bot',
      contextResetAt: null,
    });
    expect(conversation?.lastActivityAt).toBeInstanceOf(Date);

    const [row] = await db.select().from(messages).where(eq(messages.id, accepted.messageId));
    expect(row).toMatchObject({
      role: 'user',
      content: 'hi there',
      processingStatus: 'pending',
      providerMessageId: message.providerMessageId,
      metadata: { numMedia: 0, waId: '14155550100' },
    });
  });

  it('a redelivered MessageSid stores nothing new and points at the first copy', async () => {
    const message = inbound();
    const first = await acceptInbound(db, message);
    const second = await acceptInbound(db, { ...message, body: 'changed on redelivery' });
    expect(second).toEqual({ ...first, duplicate: true });
    const stored = await db
      .select()
      .from(messages)
      .where(eq(messages.providerMessageId, message.providerMessageId));
    expect(stored).toHaveLength(1);
    expect(stored[0]?.content).toBe('hello');
  });

  it('saveReplyUnlessNewer stores nothing while another message of the conversation is pending', async () => {
    const from = sender();
    const first = await acceptInbound(db, inbound({ from, body: 'first' }));
    const second = await acceptInbound(db, inbound({ from, body: 'second' }));
    expect(await saveReplyUnlessNewer(db, reply(first.conversationId, [first.messageId]))).toBe('newer');
    // Nothing was stored or marked.
    expect((await pendingInbound(db, first.conversationId)).map((m) => m.id)).toEqual([
      first.messageId,
      second.messageId,
    ]);
    const replies = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, first.conversationId), eq(messages.role, 'assistant')));
    expect(replies).toHaveLength(0);
    // With both answered there is nothing newer: stored, parts returned, both marked.
    const saved = await saveReplyUnlessNewer(
      db,
      reply(first.conversationId, [first.messageId, second.messageId]),
    );
    expect(saved).toMatchObject({ created: true, parts: [{ partIndex: 0 }, { partIndex: 1 }] });
    expect(await pendingInbound(db, first.conversationId)).toEqual([]);
  });

  it('claimFirstPart stores the first part already claimed for sending, the others pending', async () => {
    const first = await acceptInbound(db, inbound());
    const saved = await saveReply(db, reply(first.conversationId, [first.messageId]), {
      claimFirstPart: true,
    });
    expect(saved.parts.map((p) => [p.partIndex, p.status, p.attempts, p.claimed ?? false])).toEqual([
      [0, 'sending', 1, true],
      [1, 'pending', 0, false],
    ]);
    const stored = await db
      .select({ partIndex: deliveries.partIndex, status: deliveries.status, attempts: deliveries.attempts })
      .from(deliveries)
      .where(eq(deliveries.messageId, saved.replyId));
    expect(stored.sort((a, b) => a.partIndex - b.partIndex)).toEqual([
      { partIndex: 0, status: 'sending', attempts: 1 },
      { partIndex: 1, status: 'pending', attempts: 0 },
    ]);
    // As a crash would leave it: both unsent, the first to be checked with the channel before a resend.
    const unsent = await unsentDeliveries(db, first.conversationId);
    expect(unsent.map((p) => [p.status, p.sendingStartedAt instanceof Date])).toEqual([
      ['sending', true],
      ['pending', false],
    ]);
  });

  it('20 concurrent first messages from one new sender make exactly one conversation and 20 messages', async () => {
    const from = sender();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acceptInbound(db, inbound({ from, body: `message ${i}` }))),
    );
    expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const rows = await db.select().from(conversations).where(eq(conversations.userAddress, from));
    expect(rows).toHaveLength(1);
    expect(await pendingInbound(db, rows[0]!.id)).toHaveLength(20);
  });

  it('stores what PostgreSQL cannot hold (U+0000, a lone surrogate) without it', async () => {
    const message = inbound({
      body: 'a\u0000b',
      profileName: 'Ad\u0000a',
      metadata: { 'key\u0000': ['x\u0000y', { deep: '\ud800z' }] },
    });
    const accepted = await acceptInbound(db, message);
    const [stored] = await db.select().from(messages).where(eq(messages.id, accepted.messageId));
    expect(stored).toMatchObject({ content: 'ab', metadata: { key: ['xy', { deep: '\ufffdz' }] } });
    const conversation = await getConversation(db, accepted.conversationId);
    expect(conversation?.profileName).toBe('Ada');
  });

  it('keeps the known profile name when a message comes without one, and reactivates the conversation', async () => {
    const from = sender();
    const first = await acceptInbound(db, inbound({ from, profileName: 'Grace' }));
    await db.update(conversations).set({ isActive: false }).where(eq(conversations.id, first.conversationId));
    await acceptInbound(db, inbound({ from, profileName: null }));
    expect(await getConversation(db, first.conversationId)).toMatchObject({
      profileName: 'Grace',
      isActive: true,
    });
    await acceptInbound(db, inbound({ from, profileName: 'Grace H.' }));
    expect((await getConversation(db, first.conversationId))?.profileName).toBe('Grace H.');
  });
});

describe('pendingInbound and markInbound', () => {
  it('lists pending messages oldest first and leaves out the ones marked', async () => {
    const from = sender();
    const ids: string[] = [];
    let conversationId = '';
    for (const body of ['one', 'two', 'three', 'four']) {
      const accepted = await acceptInbound(db, inbound({ from, body }));
      ids.push(accepted.messageId);
      conversationId = accepted.conversationId;
    }
    expect((await pendingInbound(db, conversationId)).map((m) => m.content)).toEqual([
      'one',
      'two',
      'three',
      'four',
    ]);

    expect(await markInbound(db, [ids[1]!], 'skipped', 'mode_paused')).toBe(1);
    await markInbound(db, [ids[3]!], 'failed', 'attempts_exhausted');
    const pending = await pendingInbound(db, conversationId);
    expect(pending.map((m) => m.id)).toEqual([ids[0], ids[2]]);
    expect(pending[0]?.createdAt).toBeInstanceOf(Date);

    const [skipped] = await db.select().from(messages).where(eq(messages.id, ids[1]!));
    expect(skipped).toMatchObject({
      processingStatus: 'skipped',
      outcomeReason: 'mode_paused',
    });
  });

  it('does not change a message that is no longer pending', async () => {
    const { userId } = await exchange(sender(), 'answered already');
    expect(await markInbound(db, [userId], 'failed', 'too late')).toBe(0);
    const [row] = await db.select().from(messages).where(eq(messages.id, userId));
    expect(row?.processingStatus).toBe('answered');
  });
});

describe('saveReply', () => {
  it('saving the same reply twice stores one message and one set of deliveries', async () => {
    const from = sender();
    const a = await acceptInbound(db, inbound({ from, body: 'first' }));
    const b = await acceptInbound(db, inbound({ from, body: 'second' }));
    const input = reply(a.conversationId, [a.messageId, b.messageId]);

    const first = await saveReply(db, input);
    const second = await saveReply(db, { ...input, content: 'a different answer from a retried job' });
    expect(first.created).toBe(true);
    expect(second).toEqual({ replyId: first.replyId, created: false, parts: [] });

    const replies = await db.select().from(messages).where(eq(messages.replyToMessageId, b.messageId));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({
      role: 'assistant',
      content: 'part one. part two.',
      model: 'gpt-test',
      provider: 'openai',
      inputTokens: 12,
      outputTokens: 7,
      latencyMs: 850,
      errorKind: null,
    });
    const parts = await db
      .select()
      .from(deliveries)
      .where(eq(deliveries.messageId, first.replyId))
      .orderBy(deliveries.partIndex);
    expect(
      parts.map((p) => [p.partIndex, p.partCount, p.body, p.status, p.toAddress, p.fromAddress]),
    ).toEqual([
      [0, 2, 'part one.', 'pending', 'whatsapp:+14155550100', 'whatsapp:+14155238886'],
      [1, 2, 'part two.', 'pending', 'whatsapp:+14155550100', 'whatsapp:+14155238886'],
    ]);
    // What the first save returned is what the sender will send: the stored parts, in order.
    expect(first.parts).toEqual(await unsentDeliveries(db, a.conversationId));
    expect(await pendingInbound(db, a.conversationId)).toEqual([]);
  });

  it('stores a reply with a lone surrogate from the model (as U+FFFD), parts included', async () => {
    const a = await acceptInbound(db, inbound());
    const saved = await saveReply(db, plainReply(a.conversationId, [a.messageId], ['hi \ud83d there']));
    expect(saved.created).toBe(true);
    expect(saved.parts.map((p) => p.body)).toEqual(['hi \ufffd there']);
    const stored = await unsentDeliveries(db, a.conversationId);
    expect(stored.map((p) => p.body)).toEqual(['hi \ufffd there']);
  });

  it('concurrent saves of one reply still make exactly one', async () => {
    const a = await acceptInbound(db, inbound());
    const results = await Promise.all(
      Array.from({ length: 5 }, () => saveReply(db, reply(a.conversationId, [a.messageId]))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.replyId)).size).toBe(1);
    expect(
      await db.select().from(deliveries).where(eq(deliveries.messageId, results[0]!.replyId)),
    ).toHaveLength(2);
  });

  it('an existing reply still marks the answered messages', async () => {
    const from = sender();
    const a = await acceptInbound(db, inbound({ from }));
    const saved = await saveReply(db, reply(a.conversationId, [a.messageId]));
    const late = await acceptInbound(db, inbound({ from, body: 'merged into the batch on retry' }));
    const again = await saveReply(db, reply(a.conversationId, [late.messageId, a.messageId]));
    expect(again).toEqual({ replyId: saved.replyId, created: false, parts: [] });
    expect(await pendingInbound(db, a.conversationId)).toEqual([]);
  });

  it('refuses a reply that answers nothing', async () => {
    const a = await acceptInbound(db, inbound());
    await expect(saveReply(db, reply(a.conversationId, []))).rejects.toMatchObject({ kind: 'invalid_input' });
  });
});

describe('sessionTurns', () => {
  const minutes = (n: number) => n * 60_000;

  it('returns the newest maxTurns answered turns, oldest first', async () => {
    const from = sender();
    const turns = [];
    for (const text of ['a', 'b', 'c']) turns.push(await exchange(from, text));
    const conversationId = turns[0]!.conversationId;
    const window = await sessionTurns(db, conversationId, {
      maxTurns: 4,
      sessionTimeoutMs: minutes(30),
      now: new Date(),
    });
    expect(window.map((t) => [t.role, t.content])).toEqual([
      ['user', 'b'],
      ['assistant', 're: b'],
      ['user', 'c'],
      ['assistant', 're: c'],
    ]);
    expect(window[0]?.id).toBe(turns[1]!.userId);
    expect(window.every((t, i) => i === 0 || t.at >= window[i - 1]!.at)).toBe(true);
  });

  it('leaves out messages still pending or skipped', async () => {
    const from = sender();
    const { conversationId } = await exchange(from, 'answered');
    await acceptInbound(db, inbound({ from, body: 'waiting' }));
    const skipped = await acceptInbound(db, inbound({ from, body: 'skipped' }));
    await markInbound(db, [skipped.messageId], 'skipped', 'mode_paused');
    const window = await sessionTurns(db, conversationId, {
      maxTurns: 10,
      sessionTimeoutMs: minutes(30),
      now: new Date(),
    });
    expect(window.map((t) => t.content)).toEqual(['answered', 're: answered']);
  });

  it('leaves out a message refused before the model and its notice', async () => {
    const from = sender();
    const first = await acceptInbound(db, inbound({ from, body: 'hello' }));
    await saveReply(db, reply(first.conversationId, [first.messageId]));
    const refused = await acceptInbound(
      db,
      inbound({ from, body: 'x'.repeat(50), metadata: { originalLength: 5000 } }),
    );
    await saveReply(db, {
      ...reply(first.conversationId, [refused.messageId]),
      author: 'system',
      outcome: { status: 'notice', reason: 'too_long' },
    });
    const [row] = await db.select().from(messages).where(eq(messages.id, refused.messageId));
    expect(row).toMatchObject({ processingStatus: 'notice', outcomeReason: 'too_long' });
    const turns = await sessionTurns(db, first.conversationId, {
      maxTurns: 10,
      sessionTimeoutMs: 3_600_000,
      now: new Date(),
      after: null,
    });
    expect(turns.map((t) => t.content)).toEqual(['hello', 'part one. part two.']);
  });

  it('starts after a context reset', async () => {
    const from = sender();
    const before = await exchange(from, 'before');
    await setCreatedAt([before.userId, before.replyId], new Date(Date.now() - minutes(5)));
    await exchange(from, 'after');
    const window = await sessionTurns(db, before.conversationId, {
      maxTurns: 10,
      sessionTimeoutMs: minutes(30),
      now: new Date(),
      after: new Date(Date.now() - minutes(1)),
    });
    expect(window.map((t) => t.content)).toEqual(['after', 're: after']);
  });

  it('drops turns from before a silence longer than the session timeout', async () => {
    const from = sender();
    const old = await exchange(from, 'yesterday');
    await setCreatedAt([old.userId], new Date(Date.now() - minutes(120)));
    await setCreatedAt([old.replyId], new Date(Date.now() - minutes(119)));
    const recent = await exchange(from, 'today');
    await setCreatedAt([recent.userId], new Date(Date.now() - minutes(10)));
    await setCreatedAt([recent.replyId], new Date(Date.now() - minutes(9)));

    const options = { maxTurns: 10, sessionTimeoutMs: minutes(30), now: new Date() };
    expect((await sessionTurns(db, old.conversationId, options)).map((t) => t.content)).toEqual([
      'today',
      're: today',
    ]);
    // With a timeout longer than the gap, the older turns are part of the same session.
    const long = await sessionTurns(db, old.conversationId, { ...options, sessionTimeoutMs: minutes(200) });
    expect(long.map((t) => t.content)).toEqual(['yesterday', 're: yesterday', 'today', 're: today']);
  });

  it('is empty when the newest turn is older than the session timeout', async () => {
    const { conversationId } = await exchange(sender(), 'long ago');
    const later = new Date(Date.now() + minutes(31));
    expect(
      await sessionTurns(db, conversationId, { maxTurns: 10, sessionTimeoutMs: minutes(30), now: later }),
    ).toEqual([]);
  });
});

describe('strandedWork', () => {
  it('names each conversation with old pending messages or unsent parts once, with its oldest message', async () => {
    const old = new Date(Date.now() - 5 * 60_000);

    const stuckFrom = sender();
    const stuck1 = await acceptInbound(db, inbound({ from: stuckFrom }));
    const stuck2 = await acceptInbound(db, inbound({ from: stuckFrom }));
    await setCreatedAt([stuck1.messageId], new Date(old.getTime() - 1000));
    await setCreatedAt([stuck2.messageId], old);

    const fresh = await acceptInbound(db, inbound());

    const unsent = await exchange(sender(), 'reply never sent');
    await db.update(deliveries).set({ updatedAt: old }).where(eq(deliveries.messageId, unsent.replyId));

    const sentOk = await exchange(sender(), 'reply sent');
    await db
      .update(deliveries)
      .set({ status: 'delivered', updatedAt: old })
      .where(eq(deliveries.messageId, sentOk.replyId));

    const work = await strandedWork(db, 60_000);
    const ours = (id: string) => work.filter((w) => w.conversationId === id);
    expect(ours(stuck1.conversationId)).toEqual([
      { conversationId: stuck1.conversationId, messageId: stuck1.messageId },
    ]);
    expect(ours(unsent.conversationId)).toEqual([
      { conversationId: unsent.conversationId, messageId: unsent.replyId },
    ]);
    expect(ours(fresh.conversationId)).toEqual([]);
    expect(ours(sentOk.conversationId)).toEqual([]);
    expect(new Set(work.map((w) => w.conversationId)).size).toBe(work.length);
  });
});

describe('schema', () => {
  it('refuses a role outside user/assistant/system', async () => {
    const a = await acceptInbound(db, inbound());
    await expect(
      db.insert(messages).values({ conversationId: a.conversationId, role: 'robot', content: 'x' }),
    ).rejects.toThrow();
  });

  it('orders messages written in one transaction by creation', async () => {
    const a = await acceptInbound(db, inbound());
    await db.transaction(async (tx) => {
      for (const content of ['x', 'y', 'z']) {
        await tx.insert(messages).values({ conversationId: a.conversationId, role: 'system', content });
      }
    });
    const result = await db.execute(sql`
      select string_agg(content, '' order by created_at) as contents, count(distinct created_at)::int as stamps
      from messages where conversation_id = ${a.conversationId} and role = 'system'`);
    expect(rows<{ contents: string; stamps: number }>(result)).toEqual([{ contents: 'xyz', stamps: 3 }]);
  });
});
