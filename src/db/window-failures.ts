/**
 * The outbound message a provider's "outside the window" failure belongs to, found by the failed part's provider
 * id (a status callback) or by the message id (the sender): what pipeline/window-fallback.ts needs to follow it.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';
import { textArray } from './text-array.js';

export interface FailedOutbound {
  messageId: string;
  conversationId: string;
  /** The message's content type: a template's failure is never followed by another template. */
  contentType: string;
}

export async function failedOutbound(
  db: Db,
  by: { providerMessageId: string } | { messageId: string },
): Promise<FailedOutbound | null> {
  const where =
    'providerMessageId' in by
      ? sql`m.id = (select d.message_id from deliveries d where d.provider_message_id = ${by.providerMessageId})`
      : sql`m.id = ${by.messageId}::uuid`;
  const result = await db.execute(sql`
    select m.id, m.conversation_id, m.content_type from messages m
    where ${where} and m.role <> 'user'`);
  const row = rowsOf<{ id: string; conversation_id: string; content_type: string }>(result)[0];
  return row
    ? { messageId: row.id, conversationId: row.conversation_id, contentType: row.content_type }
    : null;
}

/** The fallback was not sent, for an expected reason (the user opted out): kept on the failed message, not retried. */
export type FallbackSkip = 'opted_out' | 'outside_window';

/** Note on the failed message why its window template was not sent: the sweep does not try it again. */
export async function recordFallbackSkipped(db: Db, messageId: string, reason: FallbackSkip): Promise<void> {
  await db.execute(sql`update messages
    set metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object('windowFallback', ${reason}::text)
    where id = ${messageId}::uuid`);
}

/**
 * A failed try at storing a message's window template (a transient fault: the database, the queue), counted on the
 * failed message (`windowFallbackTries`, `windowFallbackTriedAt`): the sweep backs off from it, so failures that
 * keep failing cannot crowd newer ones out of its rounds.
 */
export async function recordFallbackAttempt(db: Db, messageId: string, at: Date): Promise<void> {
  await db.execute(sql`update messages
    set metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object(
      'windowFallbackTries', coalesce((metadata->>'windowFallbackTries')::int, 0) + 1,
      'windowFallbackTriedAt', ${at.toISOString()}::text)
    where id = ${messageId}::uuid`);
}

export interface UnfollowedFailure {
  messageId: string;
  errorCode: string;
}

/** How long the sweep leaves a failure alone after its n-th failed try: base · 2^(n−1), at most max. */
export interface FallbackBackoff {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Outbound messages that failed with one of `codes` since `since` on one of `channels` (those with a window
 * template), not templates themselves, with no `window-fallback:<id>` message and no recorded skip: the fallbacks a
 * transient failure lost. Fair: a failure whose last try is younger than its backoff (recordFallbackAttempt) waits,
 * and the fewest tries come first, then the oldest failure; at most `limit`. Found through deliveries_failed_idx
 * (by updated_at) and the outbound key's unique index.
 */
export async function unfollowedWindowFailures(
  db: Db,
  query: {
    codes: readonly string[];
    channels: readonly string[];
    since: Date;
    limit: number;
    now: Date;
    backoff: FallbackBackoff;
  },
): Promise<UnfollowedFailure[]> {
  if (query.channels.length === 0 || query.codes.length === 0) return [];
  const tries = sql`coalesce((m.metadata->>'windowFallbackTries')::int, 0)`;
  const result = await db.execute(sql`
    select m.id as message_id, min(d.error_code) as error_code, min(d.updated_at) as failed_at,
      ${tries} as tries
    from deliveries d
    join messages m on m.id = d.message_id
    join conversations c on c.id = m.conversation_id
    where d.status in ('failed', 'undelivered') and d.updated_at >= ${query.since.toISOString()}::timestamptz
      and d.error_code = any(${textArray(query.codes)}::text[])
      and c.channel = any(${textArray(query.channels)}::text[])
      and m.role <> 'user' and m.content_type <> 'template'
      and not (coalesce(m.metadata, '{}'::jsonb) ? 'windowFallback')
      and not exists (select 1 from messages f where f.outbound_key = 'window-fallback:' || m.id::text)
      and (${tries} = 0 or (m.metadata->>'windowFallbackTriedAt')::timestamptz
        + make_interval(secs => least(${query.backoff.baseSeconds}::float8 * power(2, ${tries} - 1),
                                      ${query.backoff.maxSeconds}::float8))
        <= ${query.now.toISOString()}::timestamptz)
    group by m.id
    order by tries, failed_at
    limit ${query.limit}`);
  return rowsOf<{ message_id: string; error_code: string }>(result).map((row) => ({
    messageId: row.message_id,
    errorCode: row.error_code,
  }));
}
