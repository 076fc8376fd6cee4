/**
 * The opt-out list (table opt_outs): one row per channel and address that asked for nothing more. A conversation
 * is opted out when its key (user_address) or its reply address is on the list, so a person keyed by a scoped id
 * and writing from a phone number is matched under either. Opting out writes both addresses; opting in deletes both.
 */
import { sql } from 'drizzle-orm';
import type { OptOutSource } from '../domain/opt-out.js';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export interface OptOutState {
  optedOutAt: Date;
  source: string;
  keyword: string | null;
}

/** The addresses of a conversation, as rows `(channel, address)`: its key and where replies go. */
const CONVERSATION_ADDRESSES = (conversationId: string) => sql`
  select c.channel, a.address from conversations c
  cross join lateral (values (c.user_address), (coalesce(c.reply_address, c.user_address))) as a(address)
  where c.id = ${conversationId}`;

/**
 * Record that the conversation's person asked for nothing more, `at` when they did (a STOP: its arrival; default
 * now). An address already on the list keeps its first date and source. Returns the state now in force (the
 * earliest row), null when there is no such conversation.
 */
export async function recordOptOut(
  db: Db,
  conversationId: string,
  how: { source: OptOutSource; keyword?: string | null; at?: Date },
): Promise<OptOutState | null> {
  await db.execute(sql`
    insert into opt_outs (channel, address, source, keyword, opted_out_at)
    select distinct channel, address, ${how.source}, ${how.keyword ?? null}::text,
      coalesce(${how.at?.toISOString() ?? null}::timestamptz, clock_timestamp())
    from (${CONVERSATION_ADDRESSES(conversationId)}) as addresses
    on conflict (channel, address) do nothing`);
  return conversationOptOut(db, conversationId);
}

/**
 * The provider refused to send to the user because they unsubscribed (Twilio 21610 in a status callback): the
 * conversation of the part with that SID is opted out. False when no stored part has the SID.
 */
export async function recordOptOutByProviderMessage(
  db: Db,
  providerMessageId: string,
  source: OptOutSource,
): Promise<boolean> {
  const rows = rowsOf<{ conversation_id: string }>(
    await db.execute(
      sql`select conversation_id from deliveries where provider_message_id = ${providerMessageId}`,
    ),
  );
  const conversationId = rows[0]?.conversation_id;
  if (conversationId === undefined) return false;
  await recordOptOut(db, conversationId, { source });
  return true;
}

/** The user opted back in: both addresses leave the list. Returns how many rows went. */
export async function liftOptOut(db: Db, conversationId: string): Promise<number> {
  const result = await db.execute(sql`
    delete from opt_outs o using (${CONVERSATION_ADDRESSES(conversationId)}) as a
    where o.channel = a.channel and o.address = a.address
    returning 1`);
  return rowsOf(result).length;
}

/** Whether the conversation's person is opted out, and since when (the earliest of their addresses' rows). */
export async function conversationOptOut(db: Db, conversationId: string): Promise<OptOutState | null> {
  const rows = rowsOf<{ opted_out_at: Date | string; source: string; keyword: string | null }>(
    await db.execute(sql`
      select o.opted_out_at, o.source, o.keyword from opt_outs o
      join (${CONVERSATION_ADDRESSES(conversationId)}) as a on o.channel = a.channel and o.address = a.address
      order by o.opted_out_at limit 1`),
  );
  const row = rows[0];
  return row ? { optedOutAt: new Date(row.opted_out_at), source: row.source, keyword: row.keyword } : null;
}

/** The opt-out of one address on a channel (a data export, the CLI): null when it is not on the list. */
export async function addressOptOut(db: Db, channel: string, address: string): Promise<OptOutState | null> {
  const rows = rowsOf<{ opted_out_at: Date | string; source: string; keyword: string | null }>(
    await db.execute(sql`
      select opted_out_at, source, keyword from opt_outs where channel = ${channel} and address = ${address}`),
  );
  const row = rows[0];
  return row ? { optedOutAt: new Date(row.opted_out_at), source: row.source, keyword: row.keyword } : null;
}

export interface OptOutEntry extends OptOutState {
  channel: string;
  address: string;
}

/** Every opt-out row of these addresses, on any channel (a data export: a person is on the list per address). */
export async function optOutsOfAddresses(db: Db, addresses: string[]): Promise<OptOutEntry[]> {
  if (addresses.length === 0) return [];
  const rows = rowsOf<{
    channel: string;
    address: string;
    opted_out_at: Date | string;
    source: string;
    keyword: string | null;
  }>(
    await db.execute(sql`
      select channel, address, opted_out_at, source, keyword from opt_outs
      where address in (${sql.join(
        addresses.map((a) => sql`${a}`),
        sql`, `,
      )})
      order by opted_out_at`),
  );
  return rows.map((row) => ({
    channel: row.channel,
    address: row.address,
    optedOutAt: new Date(row.opted_out_at),
    source: row.source,
    keyword: row.keyword,
  }));
}
