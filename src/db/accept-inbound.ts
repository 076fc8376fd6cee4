/**
 * Storing inbound messages: the conversation upsert and the message insert as data-modifying CTEs of one prepared
 * statement. Concurrent first messages from a new sender meet at the (channel, user_address, business_address)
 * unique key, so there is always exactly one conversation per person and business number. The webhook's audit row is written apart, in batches
 * (webhook-log-writer.ts): it is not part of the truth.
 *
 * Natural batching: one accept statement runs at a time per database handle; messages that arrive meanwhile wait
 * and then go together as ONE multi-row statement. Under light load every message goes alone at once (no timer,
 * no added latency); under load many share one round trip, one plan and one commit.
 * Measured on 2 cores (bench/analysis.md): per message, PostgreSQL's CPU falls from ~0.41 ms alone to ~0.16 ms
 * in batches of 8, and the client's from ~0.14 ms to ~0.03 ms. A batch is one transaction; if PostgreSQL refuses
 * it for what one message carried, each message is retried alone, so one bad message cannot fail the others.
 * The price: a message shares the fate of its batch. When one sender's conversation row is locked (another batch,
 * the idle sweep, an admin action; all short), the other messages of that batch wait with it, and a message
 * arriving later in another lane may be stored before an earlier one of the same sender that waits on the lock.
 * When every lane is stuck, a message waiting 5 s fails as 'database unavailable' (503, the channel retries).
 */
import { eq } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import type { InboundMessage } from '../domain/types.js';
import type { Db } from './connect.js';
import { naturalBatcher } from '../infra/natural-batcher.js';
import { adoptScopedIdentity } from './identity.js';
import { prepared, runPrepared } from './prepared.js';
import { messages } from './schema.js';
import { isRefusal, sqlState } from './sqlstate.js';
import { storableJson, storableText } from './storable.js';

export interface AcceptedInbound {
  conversationId: string;
  messageId: string;
  /** The channel delivered this message id before: nothing was stored, messageId is the first copy's. */
  duplicate: boolean;
}

/** 'pending' for the worker; already settled when the pipeline decided not to send it to the model. */
export type InboundStatus = 'pending' | 'answered' | 'skipped';

export interface InboundBatchOptions {
  /** At most this many accept statements at once, however slow they are. */
  maxLanes?: number;
  /** A further statement may start only when every running one has run this long (a lock wait, a slow disk). */
  slowMs?: number;
  /** At most this many messages in one statement. */
  maxBatch?: number;
  /** A message that waited this long for every stuck lane fails as 'database unavailable' (503: the channel retries). */
  maxWaitMs?: number;
  /** Called with the number of messages of each statement sent (tests, diagnostics). */
  onStatement?: (messages: number) => void;
}

/**
 * One statement at a time gives the biggest batches: measured, PostgreSQL's CPU per message was 0.18-0.20 ms
 * with one lane against 0.23-0.32 ms with two (bench/analysis.md). But one statement stuck behind a row lock
 * must not hold up every sender, so when all running statements are slow another lane opens, up to MAX_LANES
 * (the pool's DB_POOL_SIZE connections are shared with the worker and the audit log).
 */
const MAX_LANES = 4;
const SLOW_MS = 25;
const MAX_BATCH = 100;
/** As long as a lone statement waits for a pool connection (connect.ts) before it fails. */
const MAX_WAIT_MS = 5000;

/**
 * Store an inbound message (see the file comment). A redelivery of a stored provider id stores nothing and
 * points at the first copy.
 */
export async function acceptInbound(
  db: Db,
  message: InboundMessage,
  status: InboundStatus = 'pending',
): Promise<AcceptedInbound> {
  if (message.userId !== undefined && message.userId !== message.from)
    await adoptScopedIdentity(db, message.channel, message.from, message.userId, message.to);
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = createInboundBatcher(db);
    batchers.set(db, batcher);
  }
  return batcher.accept(message, status);
}

/** One batcher per database handle, so every caller on the same pool shares it; it holds no timer or resource. */
const batchers = new WeakMap<Db, InboundBatcher>();

export interface InboundBatcher {
  accept(message: InboundMessage, status: InboundStatus): Promise<AcceptedInbound>;
}

export function createInboundBatcher(db: Db, options: InboundBatchOptions = {}): InboundBatcher {
  const batcher = naturalBatcher<AcceptRow, AcceptedInbound>({
    maxLanes: options.maxLanes ?? MAX_LANES,
    slowMs: options.slowMs ?? SLOW_MS,
    maxBatch: options.maxBatch ?? MAX_BATCH,
    maxWaitMs: options.maxWaitMs ?? MAX_WAIT_MS,
    timeoutError: () =>
      new AppError('database_unavailable', 'the database took no inbound message for too long'),
    run: (rows) => storeBatch(db, rows, options.onStatement),
  });
  return { accept: (message, status) => batcher.submit(acceptRow(message, status)) };
}

/**
 * The same provider id twice in one batch (a channel retrying while the first is still being handled): the
 * statement gets it once, and the later copies are answered as the redelivery they are.
 */
async function storeBatch(
  db: Db,
  rows: AcceptRow[],
  onStatement: InboundBatchOptions['onStatement'],
): Promise<(AcceptedInbound | Error)[]> {
  const firstIndex = new Map<string, number>();
  const unique: AcceptRow[] = [];
  for (const row of rows) {
    if (firstIndex.has(row.providerMessageId)) continue;
    firstIndex.set(row.providerMessageId, unique.length);
    unique.push(row);
  }
  const outcomes = await storeAll(db, unique, onStatement);
  const seen = new Set<string>();
  return rows.map((row) => {
    const outcome = outcomes[firstIndex.get(row.providerMessageId) as number] as AcceptedInbound | Error;
    const copy = seen.has(row.providerMessageId);
    seen.add(row.providerMessageId);
    return copy && !(outcome instanceof Error) ? { ...outcome, duplicate: true } : outcome;
  });
}

/** A message as the statements take it: text already made storable, metadata as JSON. */
interface AcceptRow {
  channel: string;
  /** The conversation key: the stable user id when the channel gives one, else the sender address. */
  userAddress: string;
  replyAddress: string;
  /** Our number it was sent to; '' (the channel's default) when the channel gave none. Part of the key. */
  businessAddress: string;
  profileName: string | null;
  content: string;
  contentType: string;
  payload: unknown;
  metadata: unknown;
  providerMessageId: string;
  status: InboundStatus;
}

function acceptRow(message: InboundMessage, status: InboundStatus): AcceptRow {
  return {
    channel: message.channel,
    userAddress: message.userId ?? message.from,
    replyAddress: message.from,
    businessAddress: message.to,
    profileName: message.profileName === null ? null : storableText(message.profileName),
    content: storableText(message.body),
    contentType: message.content.type,
    payload: storableJson({ content: message.content, context: message.context }),
    metadata: storableJson(message.metadata),
    providerMessageId: message.providerMessageId,
    status,
  };
}

/** One outcome per row, in order: the stored ids, or the error that row's statement ended with. */
async function storeAll(
  db: Db,
  rows: AcceptRow[],
  onStatement: InboundBatchOptions['onStatement'],
): Promise<(AcceptedInbound | Error)[]> {
  if (rows.length === 1) return [await storeOne(db, rows[0] as AcceptRow, onStatement).catch(asError)];
  try {
    onStatement?.(rows.length);
    const stored = await runPrepared(db, ACCEPT_INBOUND_BATCH, [JSON.stringify(rows.map(batchRecord))]);
    const byOrdinal = new Map(stored.map((row) => [Number(row.ord), row]));
    return await Promise.all(
      rows.map(async (row, index) => {
        const result = byOrdinal.get(index + 1);
        if (!result) return new AppError('internal', 'storing an inbound message returned no row');
        return result.message_id === null
          ? firstCopy(db, row.providerMessageId).catch(asError)
          : { conversationId: result.conversation_id, messageId: result.message_id, duplicate: false };
      }),
    );
  } catch (error) {
    // Refused for what one message carried, or lost a deadlock to another batch: each alone, so only the
    // message at fault fails. No answer at all (connection, shutdown): every message of the batch fails alike.
    if (!isRefusal(error) && !RETRY_ALONE.has(sqlState(error) ?? '')) return rows.map(() => asError(error));
    // One at a time: in arrival order (a sender's burst keeps its order), without flooding the shared pool.
    const outcomes: (AcceptedInbound | Error)[] = [];
    for (const row of rows) outcomes.push(await storeOne(db, row, onStatement).catch(asError));
    return outcomes;
  }
}

/** Deadlock and serialization failure: the batch lost to a concurrent one; alone, each message wins. */
const RETRY_ALONE = new Set(['40P01', '40001']);

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

async function storeOne(
  db: Db,
  row: AcceptRow,
  onStatement: InboundBatchOptions['onStatement'],
): Promise<AcceptedInbound> {
  onStatement?.(1);
  const rows = await runPrepared(db, ACCEPT_INBOUND, [
    row.channel,
    row.userAddress,
    row.businessAddress,
    row.profileName,
    row.content,
    JSON.stringify(row.metadata),
    row.providerMessageId,
    row.status,
    row.replyAddress,
    row.contentType,
    JSON.stringify(row.payload),
  ]);
  const stored = rows[0];
  if (!stored) throw new AppError('internal', 'storing the inbound message returned no row');
  if (stored.message_id !== null)
    return { conversationId: stored.conversation_id, messageId: stored.message_id, duplicate: false };
  return firstCopy(db, row.providerMessageId);
}

/** Redelivery (rare): point at the copy stored the first time. */
async function firstCopy(db: Db, providerMessageId: string): Promise<AcceptedInbound> {
  const first = await db
    .select({ id: messages.id, conversationId: messages.conversationId })
    .from(messages)
    .where(eq(messages.providerMessageId, providerMessageId));
  const existing = first[0];
  if (!existing) throw new AppError('internal', `inbound ${providerMessageId} conflicted but was not found`);
  return { conversationId: existing.conversationId, messageId: existing.id, duplicate: true };
}

/** A new message revives its conversation and opens its 24-hour window (last_inbound_at); a missing profile name keeps the stored one. */
const TOUCH_CONVERSATION = `on conflict (channel, user_address, business_address) do update set
      last_activity_at = now(),
      last_inbound_at = now(),
      updated_at = now(),
      is_active = true,
      reply_address = excluded.reply_address,
      profile_name = coalesce(excluded.profile_name, conversations.profile_name)`;

const ACCEPT_INBOUND = prepared<{ conversation_id: string; message_id: string | null }>(
  'accept_inbound',
  `with conversation as (
    insert into conversations (channel, user_address, business_address, profile_name, reply_address,
      last_inbound_at)
    values ($1, $2, $3, $4, $9, now())
    ${TOUCH_CONVERSATION}
    returning id
  ), inserted as (
    insert into messages (conversation_id, role, content, metadata, provider_message_id, processing_status,
      content_type, payload)
    select id, 'user', $5, $6::jsonb, $7, $8, $10, $11::jsonb
    from conversation
    on conflict (provider_message_id) do nothing
    returning id
  )
  select conversation.id as conversation_id, inserted.id as message_id
  from conversation left join inserted on true`,
);

function batchRecord(row: AcceptRow): Record<string, unknown> {
  return {
    channel: row.channel,
    user_address: row.userAddress,
    reply_address: row.replyAddress,
    business_address: row.businessAddress,
    profile_name: row.profileName,
    content: row.content,
    content_type: row.contentType,
    payload: row.payload,
    metadata: row.metadata,
    provider_message_id: row.providerMessageId,
    processing_status: row.status,
  };
}

/**
 * The same as ACCEPT_INBOUND for many messages, given as one JSON array. A sender with several messages to one
 * business number in the batch gets one conversation upsert (ON CONFLICT DO UPDATE may touch a row once per
 * statement), with the latest non-null profile name. Conversations are upserted in key order, so two batches lock
 * shared senders in the same order and cannot deadlock each other; messages are inserted in arrival order, and
 * created_at (clock_timestamp()) keeps that order within a sender's burst.
 */
const ACCEPT_INBOUND_BATCH = prepared<{
  ord: string | number;
  conversation_id: string;
  message_id: string | null;
}>(
  'accept_inbound_batch',
  `with input as (
    select * from rows from (jsonb_to_recordset($1::jsonb) as (
      channel text, user_address text, reply_address text, business_address text, profile_name text,
      content text, content_type text, payload jsonb, metadata jsonb, provider_message_id text,
      processing_status text))
    with ordinality as t(channel, user_address, reply_address, business_address, profile_name,
      content, content_type, payload, metadata, provider_message_id, processing_status, ord)
  ), sender as (
    select channel, user_address, business_address,
      (array_agg(reply_address order by ord desc))[1] as reply_address,
      (array_agg(profile_name order by ord desc) filter (where profile_name is not null))[1] as profile_name
    from input
    group by channel, user_address, business_address
  ), conversation as (
    insert into conversations (channel, user_address, business_address, profile_name, reply_address,
      last_inbound_at)
    select channel, user_address, business_address, profile_name, reply_address, now() from sender
    order by channel, user_address, business_address
    ${TOUCH_CONVERSATION}
    returning id, channel, user_address, business_address
  ), inserted as (
    insert into messages (conversation_id, role, content, metadata, provider_message_id, processing_status,
      content_type, payload)
    select conversation.id, 'user', input.content, input.metadata, input.provider_message_id,
      input.processing_status, input.content_type, input.payload
    from input
    join conversation on conversation.channel = input.channel and conversation.user_address = input.user_address
      and conversation.business_address = input.business_address
    order by input.ord
    on conflict (provider_message_id) do nothing
    returning id, provider_message_id
  )
  select input.ord, conversation.id as conversation_id, inserted.id as message_id
  from input
  join conversation on conversation.channel = input.channel and conversation.user_address = input.user_address
    and conversation.business_address = input.business_address
  left join inserted on inserted.provider_message_id = input.provider_message_id`,
);
