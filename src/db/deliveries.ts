/**
 * Delivery of reply parts: claimed before the API call, recorded after it, then moved along by status callbacks.
 * Callbacks come several per message, out of order, and sometimes before we stored the SID they are about:
 * each one is kept in delivery_events and a status only ever replaces a lower-ranked one.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { OutboundContent } from '../domain/content.js';
import { DELIVERY_STATUSES, deliveryRank, isDeliveryStatus } from '../domain/delivery.js';
import type { DeliveryStatus } from '../domain/types.js';
import type { Db } from './connect.js';
import { prepared, runPrepared } from './prepared.js';
import { daysAgo, deleteInBatches, PRUNE_BATCHES, type PruneBatches } from './prune.js';
import { deliveries, messages } from './schema.js';

/** One outbound part of a reply, as the sender needs it. */
export interface Delivery {
  id: string;
  messageId: string;
  conversationId: string;
  partIndex: number;
  partCount: number;
  /** The part's text: the text itself, a media caption, a template's rendering. */
  body: string;
  /** What is sent: text (the body), media, a template. */
  content: OutboundContent;
  to: string;
  from: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** When the last send attempt started: after a crash mid-send, the channel is asked what it took since then. */
  sendingStartedAt: Date | null;
  /**
   * A part in 'sending' whose last attempt ended with an ambiguous failure (a timeout, a reset, a 5xx): the call
   * is over, so the channel can be asked at once. Without it, a part in 'sending' may still be on its way.
   */
  attemptEnded?: boolean;
  /** This process stored it already claimed ('sending') a moment ago, to send now: no claim, no check first. */
  claimed?: boolean;
  /** The user is opted out (db/opt-outs.ts) and this is not the answer to a consent word: it must not be sent. */
  optedOutSince?: boolean;
}

const UNSENT: DeliveryStatus[] = ['pending', 'sending'];

/** Parts not yet accepted by the channel, in the order the user must read them. */
export async function unsentDeliveries(db: Db, conversationId: string): Promise<Delivery[]> {
  const rows = await db
    .select({
      id: deliveries.id,
      messageId: deliveries.messageId,
      conversationId: deliveries.conversationId,
      partIndex: deliveries.partIndex,
      partCount: deliveries.partCount,
      body: deliveries.body,
      payload: deliveries.payload,
      to: deliveries.toAddress,
      from: deliveries.fromAddress,
      status: deliveries.status,
      attempts: deliveries.attempts,
      sendingStartedAt: deliveries.sendingStartedAt,
      errorMessage: deliveries.errorMessage,
      // While the person is opted out nothing goes but the answers to their consent words (the STOP's own
      // confirmation, HELP), and not even those when stored before the opt-out. Checked here, at the last moment
      // under the conversation's lock, not only when a message is stored: an opt-out recorded between
      // sendOutbound's check and its insert would otherwise let that message through.
      optedOutSince: sql<boolean>`exists (select 1 from opt_outs o join conversations c on c.id = ${deliveries.conversationId}
        where o.channel = c.channel
          and o.address in (c.user_address, coalesce(c.reply_address, c.user_address), ${deliveries.toAddress})
          and (o.opted_out_at > ${messages.createdAt} or not exists (select 1 from messages q
            where q.id = ${messages.replyToMessageId} and ${messages.author} = 'system'
              and q.outcome_reason in ('opt_out', 'opt_in', 'help'))))`,
    })
    .from(deliveries)
    .innerJoin(messages, eq(messages.id, deliveries.messageId))
    .where(and(eq(deliveries.conversationId, conversationId), inArray(deliveries.status, UNSENT)))
    .orderBy(asc(messages.createdAt), asc(deliveries.partIndex));
  return rows.map(({ payload, errorMessage, optedOutSince, ...row }) => ({
    ...row,
    ...(optedOutSince ? { optedOutSince: true } : {}),
    ...(row.status === 'sending' && errorMessage !== null ? { attemptEnded: true } : {}),
    // Written by db/outbound.ts from an OutboundContent; null for text.
    content: payload === null ? { type: 'text', text: row.body } : (payload as unknown as OutboundContent),
    status: asStatus(row.status),
  }));
}

/**
 * Mark a part as being sent, just before the API call. A part found in 'sending' later means the process died
 * during the call. False if the part is no longer unsent.
 */
export async function claimDeliverySending(db: Db, id: string): Promise<boolean> {
  return (await runPrepared(db, CLAIM_SENDING, [id])).length > 0;
}

const CLAIM_SENDING = prepared<{ id: string }>(
  'claim_delivery_sending',
  `update deliveries set status = 'sending', sending_started_at = now(), attempts = attempts + 1, updated_at = now(),
     error_message = null
   where id = $1 and status in ('pending', 'sending')
   returning id`,
);

/**
 * The provider id stored for a part and its status, or null while it has none: what the channel's findSent reads
 * for a provider that cannot be asked (Meta: the wamid is stored by the send's answer or by a status webhook that
 * names the part). A part still 'sending' with an id reads as 'accepted'.
 */
export async function sentPart(
  db: Db,
  id: string,
): Promise<{ providerMessageId: string; status: DeliveryStatus } | null> {
  const [row] = await db
    .select({ providerMessageId: deliveries.providerMessageId, status: deliveries.status })
    .from(deliveries)
    .where(eq(deliveries.id, id));
  if (!row?.providerMessageId) return null;
  const status = asStatus(row.status);
  return {
    providerMessageId: row.providerMessageId,
    status: deliveryRank(status) < deliveryRank('accepted') ? 'accepted' : status,
  };
}

/** Where a part stands after recordSent: a callback that came first may have made it a failure, with its code. */
export interface SentPart {
  status: DeliveryStatus;
  errorCode: string | null;
}

/**
 * The channel accepted the part. A callback for this SID may already have arrived: the best status wins, and is
 * returned (with the failure's code when a callback reported one).
 */
export async function recordSent(
  db: Db,
  id: string,
  providerMessageId: string,
  status: DeliveryStatus,
): Promise<SentPart> {
  // One round trip: the lock and the ranked update run in a database function (migrations 0002, 0008).
  const [row] = await runPrepared(db, RECORD_SENT, [
    id,
    providerMessageId,
    status,
    STATUS_RANKS,
    SID_LOCK_CLASS,
  ]);
  return row ? { status: asStatus(row.status), errorCode: row.error_code } : { status, errorCode: null };
}

const RECORD_SENT = prepared<{ status: string; error_code: string | null }>(
  'record_sent',
  'select status, error_code from record_sent($1::uuid, $2::text, $3::text, $4::jsonb, $5::integer)',
);

/** deliveryRank() for every status, as the database function takes it: the one order, handed to SQL. */
const STATUS_RANKS = JSON.stringify(Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, deliveryRank(s)])));

export interface SendFailure {
  /** The provider's error code, when it gave one. */
  code: string | null;
  message: string;
  /** The channel refused the message for good; otherwise it is tried again. */
  permanent: boolean;
  /**
   * A transient failure that may have come after the channel took the message (a timeout, a reset, a 5xx): the
   * part stays 'sending', so the retry asks the channel before sending again. Otherwise it goes back to 'pending'.
   */
  ambiguous?: boolean;
}

export async function recordSendFailure(db: Db, id: string, failure: SendFailure): Promise<void> {
  await db
    .update(deliveries)
    .set({
      status: failure.permanent ? 'failed' : failure.ambiguous ? 'sending' : 'pending',
      errorCode: failure.code,
      errorMessage: failure.message,
    })
    .where(and(eq(deliveries.id, id), inArray(deliveries.status, UNSENT)));
}

export interface StatusCallback {
  providerMessageId: string;
  status: DeliveryStatus;
  errorCode: string | null;
}

/**
 * Record a status callback. `known` is false when no stored part has this SID (yet): the event is kept and
 * recordSent applies it when the SID arrives.
 */
export async function recordDeliveryStatus(db: Db, callback: StatusCallback): Promise<{ known: boolean }> {
  // One round trip: the lock, the event, and the ranked update run in a database function (migration 0002).
  const [row] = await runPrepared(db, RECORD_DELIVERY_STATUS, [
    callback.providerMessageId,
    callback.status,
    callback.errorCode,
    STATUS_RANKS,
    SID_LOCK_CLASS,
  ]);
  return { known: row?.known === true };
}

const RECORD_DELIVERY_STATUS = prepared<{ known: boolean }>(
  'record_delivery_status',
  'select record_delivery_status($1::text, $2::text, $3::text, $4::jsonb, $5::integer) as known',
);

/**
 * Advisory lock class (two-key form, so it never meets single-key locks) under which record_sent and
 * record_delivery_status take turns per SID. Without it, a callback racing the SID's storage could find no part
 * while record_sent had already read the events, and its status would be lost.
 */
const SID_LOCK_CLASS = 20_250_601;

/** The CHECK constraint keeps the column to DeliveryStatus values; this narrows the type and guards the rank. */
function asStatus(value: string): DeliveryStatus {
  return isDeliveryStatus(value) ? value : 'unknown';
}

/**
 * Deletes status callbacks received more than `olderThanDays` ago, oldest first, in bounded batches (prune.ts);
 * the sweep runs it with the webhook logs' retention. Returns how many went.
 */
export async function pruneDeliveryEvents(
  db: Db,
  olderThanDays: number,
  batches: PruneBatches = PRUNE_BATCHES,
): Promise<number> {
  return deleteInBatches(
    db,
    (limit) => sql`delete from delivery_events where (provider_message_id, status) in (
      select provider_message_id, status from delivery_events
      where received_at < ${daysAgo(olderThanDays)} order by received_at limit ${limit}
    ) returning 1`,
    batches,
  );
}
