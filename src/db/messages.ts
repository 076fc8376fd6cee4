/**
 * Messages of a conversation: inbound rows (the source of truth the queue only points at), the context window,
 * and replies with their idempotency key. Delivery tracking of the reply parts is in deliveries.ts.
 */
import { and, inArray, sql } from 'drizzle-orm';
import type { Role, Turn } from '../domain/types.js';
import type { Db } from './connect.js';
import { prepared, runPrepared } from './prepared.js';
import { rowsOf } from './rows.js';
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
export {
  recordModelCalls,
  saveReply,
  saveReplyInBotMode,
  saveReplyUnlessNewer,
  type Author,
  type ModelCallRecord,
  type ReplyInput,
  type SavedReply,
  type SaveOptions,
} from './outbound.js';

export interface PendingInbound {
  id: string;
  /** The text rendering for the model. */
  content: string;
  contentType: string;
  /** `{ content, context }` (domain/content.ts); null on rows from before typed content. */
  payload: Record<string, unknown> | null;
  /** Worker runs started on it so far. */
  attempts: number;
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
  `select id, content, content_type as "contentType", payload, attempts, metadata,
     provider_message_id as "providerMessageId", created_at as "createdAt"
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
  /**
   * When the conversation last went to a person. Until the bot has answered again, the turns since then (the
   * user's messages to the operator and the operator's replies) stay in the session whatever the silence around
   * them: an idle return takes HANDOFF_IDLE_MINUTES (an hour by default, longer than the session timeout), and the
   * resumed bot must still read what the person told the user, or it would contradict them.
   */
  handoffAt?: Date | null;
}

/**
 * The conversation's current session, oldest first, as the context cache would hold it (a window of maxTurns
 * whose TTL is refreshed by each turn): answered user messages, those of a handoff and of the human period, and
 * replies and operators' messages; nothing when the newest turn is
 * older than the session timeout; and nothing from before a silence longer than the timeout.
 */
export async function sessionTurns(db: Db, conversationId: string, options: SessionOptions): Promise<Turn[]> {
  if (options.maxTurns <= 0) return [];
  const rows = await runPrepared(db, SESSION_TURNS, [
    conversationId,
    options.after ?? null,
    options.maxTurns,
  ]);

  const handoffAt = options.handoffAt?.getTime();
  const carried =
    handoffAt !== undefined &&
    !rows.some(
      (row) => row.createdAt.getTime() >= handoffAt && row.role === 'assistant' && row.author === null,
    );
  const session: Turn[] = [];
  let newer = options.now.getTime();
  for (const row of rows) {
    const at = row.createdAt.getTime();
    const kept = carried && at >= handoffAt;
    if (!kept && newer - at > options.sessionTimeoutMs) break;
    // The CHECK constraint keeps `role` to the Role values.
    session.push({ id: row.id, role: row.role as Role, content: row.content, at });
    newer = at;
  }
  return session.reverse();
}

// Read on every context-cache miss.
const SESSION_TURNS = prepared<{
  id: string;
  role: string;
  content: string;
  createdAt: Date;
  /** null for the bot's own replies (author 'assistant' or unset), else the author. */
  author: string | null;
}>(
  'session_turns',
  `select id, role, content, created_at as "createdAt",
     nullif(author, 'assistant') as author
   from messages
   where conversation_id = $1
     -- A message that got a notice instead of an answer (too long, over the rate limit), and the notice, are not
     -- part of the conversation the model is asked to continue; an operator's messages are, and so is what the
     -- user wrote to the operator (skipped by the bot as mode_human) and asking for one: a bot that resumes after
     -- a handoff reads the whole exchange, and does not contradict the person who answered.
     and ((role = 'assistant' and coalesce(author, 'assistant') <> 'system')
       or (role = 'user' and (processing_status = 'answered'
         or (processing_status = 'skipped' and outcome_reason = 'mode_human')
         or (processing_status = 'notice' and outcome_reason in ('handoff_requested', 'handoff_by_model')))))
     and ($2::timestamptz is null or created_at > $2::timestamptz)
   order by created_at desc, id desc
   limit $3`,
);

/**
 * Close pending inbound messages without a reply of their own (a reaction, the conversation in human mode, rate
 * limited, gave up; `notice` for a handoff, whose HANDOFF_MESSAGE is stored by the mode switch), with the reason
 * code (domain/outcome.ts) an operator reads next to the message. Returns how many were still pending.
 */
export async function markInbound(
  db: Db,
  ids: string[],
  status: 'skipped' | 'failed' | 'notice',
  reason: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(messages)
    .set({ processingStatus: status, outcomeReason: reason })
    .where(and(inArray(messages.id, ids), STILL_PENDING))
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

/**
 * Fail these inbound messages for good if still pending, with the reason, adding the queue attempts that failed on
 * them to their count of attempts; returns how many.
 */
export async function failPending(
  db: Db,
  ids: string[],
  reason: string,
  attemptsMade: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db
    .update(messages)
    .set({
      processingStatus: 'failed',
      outcomeReason: reason,
      attempts: sql`${messages.attempts} + ${attemptsMade}`,
    })
    .where(and(inArray(messages.id, ids), STILL_PENDING))
    .returning({ id: messages.id });
  return rows.length;
}

/**
 * Count one more recovery run for these messages (a run that finds them long past the time a normal run takes:
 * after a crash, a stall, a sweep). Returns the new counts.
 */
export async function countRecoveryRun(db: Db, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .update(messages)
    .set({ attempts: sql`${messages.attempts} + 1` })
    .where(and(inArray(messages.id, ids), STILL_PENDING))
    .returning({ id: messages.id, attempts: messages.attempts });
  return new Map(rows.map((row) => [row.id, row.attempts]));
}

/**
 * "Still pending", for statements that pick rows by id: written so that it does not match messages_pending_idx's
 * predicate, or the planner ANDs a scan of every pending row (a backlog's worth) with the primary key lookup.
 */
const STILL_PENDING = sql`coalesce(${messages.processingStatus}, '') = 'pending'`;
