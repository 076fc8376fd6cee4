/**
 * Model spend per day (spend_daily, counted by the model_calls trigger of migration 0014) and the global spend
 * alerts sent (spend_alerts). Reads sum a row's 16 shards; sums come back as float8, exact for any spend below
 * 2^53 micro-dollars (about 9 billion dollars).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export type SpendScope = 'global' | 'user' | 'number' | 'model';

/** The spend key of a user: what the trigger writes (`<channel>:<user address>`). */
export function userSpendKey(channel: string, userAddress: string): string {
  return `${channel}:${userAddress}`;
}

/** Today's spend of one user and of everyone, in micro-dollars: one indexed read of at most 32 rows. */
export async function spendOf(
  db: Db,
  day: string,
  userKey: string,
): Promise<{ userMicros: number; globalMicros: number }> {
  const rows = rowsOf<{ user_micros: number; global_micros: number }>(
    await db.execute(sql`
      select coalesce(sum(cost_micros) filter (where scope = 'user'), 0)::float8 as user_micros,
        coalesce(sum(cost_micros) filter (where scope = 'global'), 0)::float8 as global_micros
      from spend_daily
      where day = ${day}::date and ((scope = 'global' and key = '') or (scope = 'user' and key = ${userKey}))`),
  );
  return { userMicros: rows[0]?.user_micros ?? 0, globalMicros: rows[0]?.global_micros ?? 0 };
}

/**
 * Claim the global spend alert of a day at a threshold (80 or 100 percent): true for exactly one caller across
 * every process, ever, for that day and threshold.
 */
export async function claimSpendAlert(
  db: Db,
  day: string,
  percent: number,
  spentMicros: number,
): Promise<boolean> {
  const rows = rowsOf<{ percent: number }>(
    await db.execute(sql`
      insert into spend_alerts (day, percent, spent_micros) values (${day}::date, ${percent}, ${spentMicros})
      on conflict (day, percent) do nothing returning percent`),
  );
  return rows.length > 0;
}

export interface SpendFigure {
  costMicros: number;
  calls: number;
  unpricedCalls: number;
}

export interface DaySpend extends SpendFigure {
  day: string;
}

/** Total spend per day, newest first, for the days from `since` on (days with no call are left out). */
export async function spendByDay(db: Db, since: string): Promise<DaySpend[]> {
  const rows = rowsOf<{ day: string; cost: number; calls: number; unpriced: number }>(
    await db.execute(sql`
      select to_char(day, 'YYYY-MM-DD') as day, sum(cost_micros)::float8 as cost, sum(calls)::int as calls,
        sum(unpriced_calls)::int as unpriced
      from spend_daily where scope = 'global' and key = '' and day >= ${since}::date
      group by day order by day desc`),
  );
  return rows.map((r) => ({
    day: r.day,
    costMicros: r.cost,
    calls: r.calls,
    unpricedCalls: r.unpriced,
  }));
}

export interface KeyedSpend extends SpendFigure {
  key: string;
}

/** One day's spend by user, number or model, the most expensive first. */
export async function spendByKey(
  db: Db,
  day: string,
  scope: Exclude<SpendScope, 'global'>,
  limit: number,
): Promise<KeyedSpend[]> {
  const rows = rowsOf<{ key: string; cost: number; calls: number; unpriced: number }>(
    await db.execute(sql`
      select key, sum(cost_micros)::float8 as cost, sum(calls)::int as calls, sum(unpriced_calls)::int as unpriced
      from spend_daily where day = ${day}::date and scope = ${scope}
      group by key order by cost desc, key limit ${limit}`),
  );
  return rows.map((r) => ({
    key: r.key,
    costMicros: r.cost,
    calls: r.calls,
    unpricedCalls: r.unpriced,
  }));
}

export interface ConversationSpend extends SpendFigure {
  conversationId: string;
  channel: string;
  userAddress: string;
  businessAddress: string;
}

/**
 * One day's spend by conversation, the most expensive first, from the model calls themselves (the calls of that
 * day's window of created_at, found through model_calls_created_idx, then by their spend day).
 */
export async function spendByConversation(db: Db, day: string, limit: number): Promise<ConversationSpend[]> {
  const rows = rowsOf<{
    id: string;
    channel: string;
    user_address: string;
    business_address: string;
    cost: number;
    calls: number;
    unpriced: number;
  }>(
    await db.execute(sql`
      select c.id, c.channel, c.user_address, c.business_address, s.cost, s.calls, s.unpriced
      from (
        select conversation_id, coalesce(sum(cost_micros), 0)::float8 as cost, count(*)::int as calls,
          count(*) filter (where cost_micros is null)::int as unpriced
        from model_calls
        where created_at >= ${day}::date - 1 and created_at < ${day}::date + 2 and spend_day = ${day}::date
        group by conversation_id
        order by cost desc, conversation_id limit ${limit}
      ) s join conversations c on c.id = s.conversation_id
      order by s.cost desc, c.id`),
  );
  return rows.map((r) => ({
    conversationId: r.id,
    channel: r.channel,
    userAddress: r.user_address,
    businessAddress: r.business_address,
    costMicros: r.cost,
    calls: r.calls,
    unpricedCalls: r.unpriced,
  }));
}

export interface ConversationCost extends SpendFigure {
  /** Per answer: the outbound message and what its model calls cost (used, discarded and failed ones). */
  messages: Array<{ messageId: string; costMicros: number; calls: number; unpricedCalls: number }>;
}

/**
 * What a conversation's model calls cost in all (as far as they are kept: RETENTION_DAYS deletes old ones), and
 * per answer: the calls recorded for the batch a reply answers (its reply_to_message_id), the used one and any
 * discarded or failed before it.
 */
export async function conversationCost(db: Db, conversationId: string): Promise<ConversationCost> {
  const [total] = rowsOf<{ cost: number; calls: number; unpriced: number }>(
    await db.execute(sql`
      select coalesce(sum(cost_micros), 0)::float8 as cost, count(*)::int as calls,
        count(*) filter (where cost_micros is null)::int as unpriced
      from model_calls where conversation_id = ${conversationId}::uuid`),
  );
  const perMessage = rowsOf<{ id: string; cost: number; calls: number; unpriced: number }>(
    await db.execute(sql`
      select m.id, coalesce(sum(mc.cost_micros), 0)::float8 as cost, count(*)::int as calls,
        count(*) filter (where mc.cost_micros is null)::int as unpriced
      from messages m
      join model_calls mc on mc.conversation_id = m.conversation_id and mc.inbound_message_id = m.reply_to_message_id
      where m.conversation_id = ${conversationId}::uuid and m.role = 'assistant' and m.author = 'assistant'
      group by m.id, m.created_at order by m.created_at`),
  );
  return {
    costMicros: total?.cost ?? 0,
    calls: total?.calls ?? 0,
    unpricedCalls: total?.unpriced ?? 0,
    messages: perMessage.map((r) => ({
      messageId: r.id,
      costMicros: r.cost,
      calls: r.calls,
      unpricedCalls: r.unpriced,
    })),
  };
}

/** A day's spend of the bounded scopes (everyone, each business number, each model): what /metrics exposes. */
export async function spendOfBoundedScopes(
  db: Db,
  day: string,
): Promise<Array<{ scope: 'global' | 'number' | 'model'; key: string } & SpendFigure>> {
  const rows = rowsOf<{
    scope: 'global' | 'number' | 'model';
    key: string;
    cost: number;
    calls: number;
    unpriced: number;
  }>(
    await db.execute(sql`
      select scope, key, sum(cost_micros)::float8 as cost, sum(calls)::int as calls,
        sum(unpriced_calls)::int as unpriced
      from spend_daily where day = ${day}::date and scope in ('global', 'number', 'model')
      group by scope, key order by scope, key`),
  );
  return rows.map((r) => ({
    scope: r.scope,
    key: r.key,
    costMicros: r.cost,
    calls: r.calls,
    unpricedCalls: r.unpriced,
  }));
}
