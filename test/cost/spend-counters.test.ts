/**
 * The spend counters on a real PostgreSQL: every model call recorded with a cost and a day is added, by the
 * database, to that day's spend of everyone, the user, the business number and the model; a call of a model
 * without a price is counted as unpriced; reads and the per-conversation and per-message figures agree; a
 * spend alert is claimed once per day and threshold; an erasure forgets the user's spend rows.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound, recordModelCalls, saveReply, type ModelCallRecord } from '../../src/db/messages.js';
import {
  claimSpendAlert,
  conversationCost,
  spendByConversation,
  spendByDay,
  spendByKey,
  spendOf,
  userSpendKey,
} from '../../src/db/spend.js';
import { dayIn } from '../../src/domain/prices.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, plainReply, rows, sender } from '../db/fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

// Today: the per-conversation figures find calls through their created_at (now) before their spend day.
const DAY = dayIn(new Date(), 'UTC');

function call(overrides: Partial<ModelCallRecord> = {}): ModelCallRecord {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    outcome: 'used',
    errorKind: null,
    usage: { inputTokens: 1000, outputTokens: 500 },
    latencyMs: 12,
    costMicros: 450,
    spendDay: DAY,
    ...overrides,
  };
}

describe('spend counters', () => {
  it('add each recorded call to the day of everyone, the user, the number and the model, in the same statement', async () => {
    const from = sender();
    const accepted = await acceptInbound(db, inbound({ from }));
    const conversationId = accepted.conversationId;
    // A reply with two calls behind it (a discarded one, then the used one) and a failed attempt before.
    await recordModelCalls(db, conversationId, accepted.messageId, [
      call({ outcome: 'failed', usage: null, costMicros: 0, errorKind: 'ai_timeout' }),
    ]);
    await saveReply(db, {
      ...plainReply(conversationId, [accepted.messageId], ['hi']),
      modelCalls: [call({ outcome: 'discarded', costMicros: 300 }), call({ costMicros: 450 })],
    });
    const before = await spendOf(db, DAY, userSpendKey('twilio', from));
    expect(before.userMicros).toBe(750);
    expect(before.globalMicros).toBeGreaterThanOrEqual(750);

    const byUser = await spendByKey(db, DAY, 'user', 100);
    expect(byUser.find((r) => r.key === `twilio:${from}`)).toEqual({
      key: `twilio:${from}`,
      costMicros: 750,
      calls: 3,
      unpricedCalls: 0,
    });
    const byNumber = await spendByKey(db, DAY, 'number', 100);
    expect(byNumber.find((r) => r.key === 'twilio:whatsapp:+14155238886')?.costMicros).toBeGreaterThanOrEqual(
      750,
    );

    const cost = await conversationCost(db, conversationId);
    expect(cost.costMicros).toBe(750);
    expect(cost.calls).toBe(3);
    expect(cost.messages).toHaveLength(1);
    expect(cost.messages[0]?.costMicros).toBe(750);

    const top = await spendByConversation(db, DAY, 100);
    expect(top.find((r) => r.conversationId === conversationId)).toMatchObject({
      costMicros: 750,
      calls: 3,
      userAddress: from,
    });
  });

  it('counts a call of a model without a price as unpriced (cost unknown, not zero) and skips calls without a day', async () => {
    const from = sender();
    const accepted = await acceptInbound(db, inbound({ from }));
    await recordModelCalls(db, accepted.conversationId, accepted.messageId, [
      call({ model: 'mystery-model', costMicros: null }),
      call({ model: 'undated', spendDay: undefined, costMicros: 999 }),
    ]);
    const byModel = await spendByKey(db, DAY, 'model', 100);
    expect(byModel.find((r) => r.key === 'mystery-model')).toEqual({
      key: 'mystery-model',
      costMicros: 0,
      calls: 1,
      unpricedCalls: 1,
    });
    expect(byModel.find((r) => r.key === 'undated')).toBeUndefined();
    const stored = rows<{ cost_micros: string | null }>(
      await db.execute(sql`select cost_micros from model_calls where model = 'mystery-model'`),
    );
    expect(stored.map((r) => r.cost_micros)).toEqual([null]);
    const days = await spendByDay(db, DAY);
    expect(days[0]).toMatchObject({ day: DAY });
    expect(days[0]?.unpricedCalls).toBeGreaterThanOrEqual(1);
  });

  it('sums the shards: many conversations of one day all count in the global figure', async () => {
    const day = '2031-05-07';
    const conversations = await Promise.all(
      Array.from({ length: 40 }, () => acceptInbound(db, inbound({ from: sender() }))),
    );
    await Promise.all(
      conversations.map((c) =>
        recordModelCalls(db, c.conversationId, c.messageId, [call({ spendDay: day, costMicros: 25 })]),
      ),
    );
    const spent = await spendOf(db, day, 'twilio:nobody');
    expect(spent).toEqual({ userMicros: 0, globalMicros: 40 * 25 });
    const shards = rows<{ n: number }>(
      await db.execute(
        sql`select count(*)::int as n from spend_daily where day = ${day}::date and scope = 'global'`,
      ),
    );
    expect(shards[0]?.n).toBeGreaterThan(1);
  });

  it('claims a spend alert once per day and threshold', async () => {
    expect(await claimSpendAlert(db, DAY, 80, 800)).toBe(true);
    expect(await claimSpendAlert(db, DAY, 80, 900)).toBe(false);
    expect(await claimSpendAlert(db, DAY, 100, 1000)).toBe(true);
    expect(await claimSpendAlert(db, '2031-05-08', 80, 800)).toBe(true);
  });
});
