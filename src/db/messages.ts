/**
 * Messages of a conversation: inbound rows (the source of truth the queue only points at), the context window,
 * and replies with their idempotency key. Delivery tracking of the reply parts is in deliveries.ts.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import type { Role, TokenUsage, Turn } from '../domain/types.js';
import type { Db } from './connect.js';
import type { Delivery } from './deliveries.js';
import { prepared, runPrepared } from './prepared.js';
import { rowsOf } from './rows.js';
import { storableText } from './storable.js';
import { messages } from './schema.js';

export {
  claimDeliverySending,
  recordDeliveryStatus,
  recordSendFailure,
  recordSent,
  unsentDeliveries,
  type Delivery,
} from './deliveries.js';
export { acceptInbound, type AcceptedInbound } from './accept-inbound.js';

export interface PendingInbound {
  id: string;
  content: string;
  metadata: Record<string, unknown>;
  providerMessageId: string | null;
  createdAt: Date;
}

/** Inbound messages not yet handled, in arrival order: the next batch to answer. */
export async function pendingInbound(db: Db, conversationId: string): Promise<PendingInbound[]> {
  return runPrepared(db, PENDING_INBOUND, [conversationId]);
}

const PENDING_INBOUND = prepared<PendingInbound>(
  'pending_inbound',
  `select id, content, metadata, provider_message_id as "providerMessageId", created_at as "createdAt"
   from messages
   where conversation_id = $1 and role = 'user' and processing_status = 'pending'
   order by created_at, id`,
);

export interface SessionOptions {
  maxTurns: number;
  sessionTimeoutMs: number;
  now: Date;
  /** Context reset: only turns created after this. */
  after?: Date | null;
}

/**
 * The conversation's current session, oldest first, as the context cache would hold it (a window of maxTurns
 * whose TTL is refreshed by each turn): answered user messages and replies only; nothing when the newest turn is
 * older than the session timeout; and nothing from before a silence longer than the timeout.
 */
export async function sessionTurns(db: Db, conversationId: string, options: SessionOptions): Promise<Turn[]> {
  if (options.maxTurns <= 0) return [];
  const rows = await runPrepared(db, SESSION_TURNS, [
    conversationId,
    options.after ?? null,
    options.maxTurns,
  ]);

  const session: Turn[] = [];
  let newer = options.now.getTime();
  for (const row of rows) {
    const at = row.createdAt.getTime();
    if (newer - at > options.sessionTimeoutMs) break;
    // The CHECK constraint keeps `role` to the Role values.
    session.push({ id: row.id, role: row.role as Role, content: row.content, at });
    newer = at;
  }
  return session.reverse();
}

// Read on every context-cache miss.
const SESSION_TURNS = prepared<{ id: string; role: string; content: string; createdAt: Date }>(
  'session_turns',
  `select id, role, content, created_at as "createdAt"
   from messages
   where conversation_id = $1
     -- A message refused before the model (too long, over the rate limit) and its notice are not part of the
     -- conversation the model is asked to continue.
     and ((role = 'assistant' and coalesce(error_kind, '') not in ('too_long', 'rate_limited'))
       or (role = 'user' and processing_status = 'answered' and metadata->>'refused' is null))
     and ($2::timestamptz is null or created_at > $2::timestamptz)
   order by created_at desc, id desc
   limit $3`,
);

export interface ReplyInput {
  conversationId: string;
  /** The inbound messages this reply answers, in order; the last one is the reply's idempotency key. */
  answeredIds: string[];
  content: string;
  /** The content split into what the channel can carry in one message each. */
  parts: string[];
  to: string;
  from: string | null;
  model: string | null;
  provider: string | null;
  usage: TokenUsage | null;
  latencyMs: number | null;
  /** Set when the reply is a friendly fallback after an AI failure. */
  errorKind: string | null;
}

export interface SavedReply {
  replyId: string;
  /** False when a retried job found the reply stored the first time. */
  created: boolean;
  /** The parts stored with a new reply, ready to send (empty when the reply existed already). */
  parts: Delivery[];
}

export interface SaveOptions {
  /**
   * Store the first part already claimed for sending ('sending', attempt 1), for a caller that sends it right
   * away: it saves the claim's own statement. After a crash the part is found in 'sending' and the channel is
   * asked before sending again, exactly as after a crash during the send.
   */
  claimFirstPart?: boolean;
}

/**
 * Store a reply, its delivery parts, and mark what it answers, in one statement (atomic, one round trip).
 * Keyed by the last answered message: a retried job gets the reply stored the first time (created: false) and
 * never a second one.
 */
export async function saveReply(db: Db, reply: ReplyInput, options: SaveOptions = {}): Promise<SavedReply> {
  const saved = await storeReply(db, reply, false, options);
  if (saved === 'newer') throw new AppError('internal', 'saveReply does not check for newer messages');
  return saved;
}

/**
 * saveReply, unless the conversation has pending inbound messages besides the ones answered: then nothing is
 * stored and the caller folds them into a new answer. The check is part of the statement, so the common case
 * (nothing new) costs no extra round trip.
 */
export async function saveReplyUnlessNewer(
  db: Db,
  reply: ReplyInput,
  options: SaveOptions = {},
): Promise<SavedReply | 'newer'> {
  return storeReply(db, reply, true, options);
}

async function storeReply(
  db: Db,
  reply: ReplyInput,
  unlessNewer: boolean,
  options: SaveOptions,
): Promise<SavedReply | 'newer'> {
  const claimFirst = options.claimFirstPart === true;
  const key = reply.answeredIds.at(-1);
  if (key === undefined) throw new AppError('invalid_input', 'a reply must answer at least one message');
  const latencyMs = reply.latencyMs === null ? null : Math.round(reply.latencyMs);
  // As stored: a lone surrogate from a model becomes U+FFFD (jsonb refuses it; see storable.ts).
  const bodies = reply.parts.map(storableText);
  const [row] = await runPrepared(db, SAVE_REPLY, [
    reply.conversationId,
    storableText(reply.content),
    key,
    reply.model,
    reply.provider,
    reply.usage?.inputTokens ?? null,
    reply.usage?.outputTokens ?? null,
    latencyMs,
    reply.errorKind,
    reply.parts.length,
    reply.to,
    reply.from,
    JSON.stringify(bodies),
    uuidArray(reply.answeredIds),
    unlessNewer,
    claimFirst,
  ]);
  if (!row) throw new AppError('internal', 'storing the reply returned no row');
  if (row.newer) return 'newer';
  if (row.reply_id !== null) {
    const replyId = row.reply_id;
    // node-postgres parses jsonb; PGlite may hand it over as text.
    const stored =
      typeof row.parts === 'string' ? (JSON.parse(row.parts) as Array<[string, number]>) : row.parts;
    const parts = stored
      .map(([id, partIndex]) => ({
        id,
        messageId: replyId,
        conversationId: reply.conversationId,
        partIndex,
        partCount: reply.parts.length,
        body: bodies[partIndex] ?? '',
        to: reply.to,
        from: reply.from,
        ...(claimFirst && partIndex === 0
          ? { status: 'sending' as const, attempts: 1, sendingStartedAt: new Date(), claimed: true }
          : { status: 'pending' as const, attempts: 0, sendingStartedAt: null }),
      }))
      .sort((a, b) => a.partIndex - b.partIndex);
    return { replyId, created: true, parts };
  }
  // A retry: the reply is there from the first time (the statement has marked what it answers).
  const existing = await db
    .select({ id: messages.id })
    .from(messages)
    .where(eq(messages.replyToMessageId, key));
  const found = existing[0];
  if (!found) throw new AppError('internal', `reply to ${key} conflicted but was not found`);
  return { replyId: found.id, created: false, parts: [] };
}

/**
 * A uuid[] parameter as PostgreSQL's array literal, the same on both drivers. `= any($1::uuid[])` is planned as an
 * index lookup; `in (select … from jsonb_array_elements_text($1))` was planned, on a young table's statistics,
 * as a hash join over a sequential scan of all messages (measured: 1.8 ms a reply instead of 0.1).
 */
function uuidArray(ids: string[]): string {
  for (const id of ids)
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('invalid_input', `not a message id: ${id}`);
  return `{${ids.join(',')}}`;
}

// The reply, its parts, and the marks on what it answers: one prepared statement, once per answer. With $15,
// nothing happens when other inbound messages of the conversation are pending (newer: true).
const SAVE_REPLY = prepared<{
  newer: boolean;
  reply_id: string | null;
  parts: Array<[string, number]> | string;
}>(
  'save_reply',
  `with newer as (
    select $15::boolean and exists (
      select 1 from messages
      where conversation_id = $1 and role = 'user' and processing_status = 'pending'
        and id <> all ($14::uuid[])) as found
  ), reply as (
    insert into messages
      (conversation_id, role, content, reply_to_message_id, model, provider, input_tokens, output_tokens,
       latency_ms, error_kind)
    select $1::uuid, 'assistant', $2::text, $3::uuid, $4::text, $5::text, $6::integer, $7::integer, $8::integer,
      $9::text
    where not (select found from newer)
    on conflict (reply_to_message_id) do nothing
    returning id
  ), parts as (
    insert into deliveries (message_id, conversation_id, part_index, part_count, body, to_address, from_address,
      status, attempts, sending_started_at)
    select reply.id, $1, part.index - 1, $10, part.body, $11, $12,
      case when $16::boolean and part.index = 1 then 'sending' else 'pending' end,
      case when $16::boolean and part.index = 1 then 1 else 0 end,
      case when $16::boolean and part.index = 1 then now() end
    from reply, jsonb_array_elements_text($13::jsonb) with ordinality as part(body, index)
    returning id, part_index
  ), answered as (
    update messages set processing_status = 'answered'
    where id = any ($14::uuid[])
      and processing_status is distinct from 'answered'
      and not (select found from newer)
  )
  select (select found from newer) as newer, reply.id as reply_id,
    coalesce((select jsonb_agg(jsonb_build_array(parts.id, parts.part_index)) from parts), '[]'::jsonb) as parts
  from (select 1) as one left join reply on true`,
);

/**
 * Close pending inbound messages without a reply (bot paused, rate limited, gave up). The reason is kept in the
 * message's metadata as `processingNote`. Returns how many were still pending.
 */
export async function markInbound(
  db: Db,
  ids: string[],
  status: 'skipped' | 'failed',
  reason?: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(messages)
    .set({
      processingStatus: status,
      ...(reason === undefined
        ? {}
        : { metadata: sql`${messages.metadata} || jsonb_build_object('processingNote', ${reason}::text)` }),
    })
    .where(and(inArray(messages.id, ids), eq(messages.processingStatus, 'pending')))
    .returning({ id: messages.id });
  return rows.length;
}

export interface StrandedWork {
  conversationId: string;
  messageId: string;
}

/**
 * Conversations with work nobody is doing: an inbound message still pending, or a reply part still unsent, for
 * longer than olderThanMs (Redis lost the job, a worker crashed). One entry per conversation, with its oldest
 * such message, for the scheduler to enqueue again.
 */
export async function strandedWork(db: Db, olderThanMs: number): Promise<StrandedWork[]> {
  const cutoff = sql`now() - make_interval(secs => ${olderThanMs / 1000})`;
  const result = await db.execute(sql`
    select distinct on (conversation_id) conversation_id, message_id
    from (
      select conversation_id, id as message_id, created_at as since
      from messages
      where processing_status = 'pending' and created_at < ${cutoff}
      union all
      -- updated_at: a part being retried with backoff is not stranded until it has gone quiet.
      select conversation_id, message_id, updated_at as since
      from deliveries
      where status in ('pending', 'sending') and updated_at < ${cutoff}
    ) stranded
    order by conversation_id, since`);
  return rowsOf<{ conversation_id: string; message_id: string }>(result).map((row) => ({
    conversationId: row.conversation_id,
    messageId: row.message_id,
  }));
}
