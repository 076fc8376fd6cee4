/**
 * Outbound messages: a reply, a notice, an operator's message, a template. Each is stored with its own
 * idempotency key, its author and content, its delivery parts, and the outcome of the inbound messages it
 * closes, in ONE statement (atomic, one round trip). The key is unique: a retried job or request gets the message
 * stored the first time and never a second one. Every model call behind it is recorded in the same statement.
 */
import { eq, sql } from 'drizzle-orm';
import type { OutboundContent } from '../domain/content.js';
import { AppError } from '../domain/errors.js';
import type { TokenUsage } from '../domain/types.js';
import type { Db } from './connect.js';
import type { Delivery } from './deliveries.js';
import { prepared, runPrepared } from './prepared.js';
import { messages } from './schema.js';
import { storableJson, storableText } from './storable.js';

/** `assistant` (the model), `system` (a notice), `operator:<admin user id>`. */
export type Author = 'assistant' | 'system' | `operator:${string}`;

/** One model call behind an answer, recorded whether its answer was used, discarded or never came. */
export interface ModelCallRecord {
  provider: string;
  model: string;
  outcome: 'used' | 'discarded' | 'failed';
  errorKind: string | null;
  usage: TokenUsage | null;
  latencyMs: number | null;
  /**
   * What the call cost in micro-dollars, from the price in force when it was made (pipeline/pricing.ts); null: the
   * model has no known price. Absent: not priced (counted nowhere).
   */
  costMicros?: number | null;
  /** The day (YYYY-MM-DD in TIMEZONE) its spend counts for; absent: not counted in the daily spend. */
  spendDay?: string;
}

export interface ReplyInput {
  conversationId: string;
  /**
   * The inbound messages this closes, in order. Without `key`, the last one is the idempotency key
   * (`reply:<id>`); it may be empty only with a key.
   */
  answeredIds: string[];
  /** The text rendering (for a text message, the text itself). */
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
  /** Idempotency key; default `reply:<last answered id>`. */
  key?: string;
  /** Default: `assistant`. */
  author?: Author;
  /** Non-text content (media, template); its parts carry it. Default: text. */
  outbound?: OutboundContent;
  /** How the answered messages end: `answered` (default) or `notice`, with a reason code. */
  outcome?: { status: 'answered' | 'notice'; reason: string | null };
  /** The model calls behind this answer (used and discarded ones). */
  modelCalls?: ModelCallRecord[];
  /** Stored in messages.metadata: why it is what it is (a window template's note, domain/window.ts). */
  metadata?: Record<string, unknown>;
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
  /**
   * Store nothing unless the conversation is still in `bot` mode and every message answered is still pending,
   * checked inside the statement: a human who took over while the model was thinking is never answered over, and
   * a worker that lost its lock (another one answered these messages meanwhile) stores no second reply. The result
   * is then 'newer': the caller looks again.
   */
  onlyInBotMode?: boolean;
}

/** Store an outbound message with its parts and the outcome of what it answers (see the file comment). */
export async function saveReply(db: Db, reply: ReplyInput, options: SaveOptions = {}): Promise<SavedReply> {
  const saved = await storeOutbound(db, reply, false, { ...options, onlyInBotMode: false });
  if (saved === 'newer') throw new AppError('internal', 'saveReply does not check for newer messages');
  return saved;
}

/** saveReply, unless the conversation has left `bot` mode ('newer': the caller looks again). */
export async function saveReplyInBotMode(
  db: Db,
  reply: ReplyInput,
  options: SaveOptions = {},
): Promise<SavedReply | 'newer'> {
  return storeOutbound(db, reply, false, { ...options, onlyInBotMode: true });
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
  return storeOutbound(db, reply, true, options);
}

async function storeOutbound(
  db: Db,
  reply: ReplyInput,
  unlessNewer: boolean,
  options: SaveOptions,
): Promise<SavedReply | 'newer'> {
  const claimFirst = options.claimFirstPart === true;
  const last = reply.answeredIds.at(-1) ?? null;
  const key = reply.key ?? (last === null ? undefined : `reply:${last}`);
  if (key === undefined)
    throw new AppError('invalid_input', 'an outbound message needs a key or an answered id');
  const latencyMs = reply.latencyMs === null ? null : Math.round(reply.latencyMs);
  // As stored: a lone surrogate from a model becomes U+FFFD (jsonb refuses it; see storable.ts).
  const bodies = reply.parts.map(storableText);
  // Media goes with the first part only; the rest of a long caption follows as text.
  const partContent = (body: string, index: number): OutboundContent =>
    reply.outbound && index === 0 ? withCaption(reply.outbound, body) : { type: 'text', text: body };
  const partRecords = bodies.map((body, index) => {
    const content = partContent(body, index);
    return { body, payload: content.type === 'text' ? null : storableJson(content) };
  });
  const outcome = reply.outcome ?? { status: 'answered', reason: null };
  const [row] = await runPrepared(db, SAVE_OUTBOUND, [
    reply.conversationId,
    storableText(reply.content),
    last,
    reply.model,
    reply.provider,
    reply.usage?.inputTokens ?? null,
    reply.usage?.outputTokens ?? null,
    latencyMs,
    reply.errorKind,
    reply.parts.length,
    reply.to,
    reply.from,
    JSON.stringify(partRecords),
    uuidArray(reply.answeredIds),
    unlessNewer,
    claimFirst,
    key,
    reply.author ?? 'assistant',
    reply.outbound?.type ?? 'text',
    JSON.stringify(reply.outbound ? storableJson({ content: reply.outbound }) : null),
    outcome.status,
    outcome.reason,
    JSON.stringify((reply.modelCalls ?? []).map(callRecord)),
    options.onlyInBotMode === true,
    JSON.stringify(storableJson(reply.metadata ?? {})),
  ]);
  if (!row) throw new AppError('internal', 'storing the outbound message returned no row');
  if (row.newer) return 'newer';
  if (row.reply_id !== null) {
    const replyId = row.reply_id;
    // node-postgres parses jsonb; PGlite may hand it over as text.
    const stored =
      typeof row.parts === 'string' ? (JSON.parse(row.parts) as Array<[string, number]>) : row.parts;
    const parts = stored
      .map(([id, partIndex]): Delivery => {
        const body = bodies[partIndex] ?? '';
        return {
          id,
          messageId: replyId,
          conversationId: reply.conversationId,
          partIndex,
          partCount: reply.parts.length,
          body,
          content: partContent(body, partIndex),
          to: reply.to,
          from: reply.from,
          ...(claimFirst && partIndex === 0
            ? { status: 'sending' as const, attempts: 1, sendingStartedAt: new Date(), claimed: true }
            : { status: 'pending' as const, attempts: 0, sendingStartedAt: null }),
        };
      })
      .sort((a, b) => a.partIndex - b.partIndex);
    return { replyId, created: true, parts };
  }
  // A retry: the message is there from the first time (the statement has marked what it answers).
  const existing = await db.select({ id: messages.id }).from(messages).where(eq(messages.outboundKey, key));
  const found = existing[0];
  if (!found) throw new AppError('internal', `outbound ${key} conflicted but was not found`);
  return { replyId: found.id, created: false, parts: [] };
}

/** The message stored under an idempotency key, if any (a request repeated after its first answer). */
export async function outboundIdByKey(db: Db, key: string): Promise<string | null> {
  const rows = await db.select({ id: messages.id }).from(messages).where(eq(messages.outboundKey, key));
  return rows[0]?.id ?? null;
}

/** A part of a media message carries the caption given to it; templates and reactions have one part. */
function withCaption(content: OutboundContent, body: string): OutboundContent {
  if (content.type !== 'media') return content;
  return body === '' ? { type: 'media', items: content.items } : { ...content, caption: body };
}

function callRecord(call: ModelCallRecord): Record<string, unknown> {
  return {
    provider: call.provider,
    model: call.model,
    outcome: call.outcome,
    error_kind: call.errorKind,
    input_tokens: call.usage?.inputTokens ?? null,
    output_tokens: call.usage?.outputTokens ?? null,
    latency_ms: call.latencyMs === null ? null : Math.round(call.latencyMs),
    cost_micros: call.costMicros ?? null,
    spend_day: call.spendDay ?? null,
  };
}

/**
 * A uuid[] parameter as PostgreSQL's array literal, the same on both drivers. `= any($1::uuid[])` is planned as an
 * index lookup; `in (select … from jsonb_array_elements_text($1))` was planned, on a young table's statistics,
 * as a hash join over a sequential scan of all messages (measured: 1.8 ms a reply instead of 0.1).
 */
export function uuidArray(ids: string[]): string {
  for (const id of ids)
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('invalid_input', `not a message id: ${id}`);
  return `{${ids.join(',')}}`;
}

// The message, its parts, the outcome of what it answers and its model calls: one prepared statement, once per
// answer. With $15, nothing happens when other inbound messages of the conversation are pending (newer: true);
// with $24, nothing happens when the conversation is no longer in bot mode (newer: true as well).
// The model calls are recorded even when the message itself existed already (a retry made them again).
const SAVE_OUTBOUND = prepared<{
  newer: boolean;
  reply_id: string | null;
  parts: Array<[string, number]> | string;
}>(
  'save_outbound',
  `with newer as (
    select ($15::boolean and exists (
      select 1 from messages
      where conversation_id = $1 and role = 'user' and processing_status = 'pending'
        and id <> all ($14::uuid[])))
      or ($24::boolean and exists (select 1 from conversations where id = $1 and mode <> 'bot'))
      or ($24::boolean and exists (
        select 1 from messages where id = any ($14::uuid[]) and coalesce(processing_status, '') <> 'pending'))
      as found
  ), reply as (
    insert into messages
      (conversation_id, role, content, reply_to_message_id, model, provider, input_tokens, output_tokens,
       latency_ms, error_kind, outbound_key, author, content_type, payload, metadata)
    select $1::uuid, 'assistant', $2::text, $3::uuid, $4::text, $5::text, $6::integer, $7::integer, $8::integer,
      $9::text, $17::text, $18::text, $19::text, $20::jsonb, $25::jsonb
    where not (select found from newer)
    on conflict (outbound_key) do nothing
    returning id
  ), parts as (
    insert into deliveries (message_id, conversation_id, part_index, part_count, body, payload, to_address,
      from_address, status, attempts, sending_started_at)
    select reply.id, $1, part.index - 1, $10, part.value->>'body', nullif(part.value->'payload', 'null'::jsonb),
      $11, $12,
      case when $16::boolean and part.index = 1 then 'sending' else 'pending' end,
      case when $16::boolean and part.index = 1 then 1 else 0 end,
      case when $16::boolean and part.index = 1 then now() end
    from reply, jsonb_array_elements($13::jsonb) with ordinality as part(value, index)
    returning id, part_index
  ), answered as (
    update messages set processing_status = $21::text, outcome_reason = $22::text
    where id = any ($14::uuid[])
      -- Not "processing_status = 'pending'": that matches messages_pending_idx's predicate, and the planner then
      -- ANDs a scan of every pending row with the primary key (a backlog made each answer cost milliseconds).
      and coalesce(processing_status, '') = 'pending'
      and not (select found from newer)
  ), calls as (
    insert into model_calls (conversation_id, inbound_message_id, outbound_message_id, provider, model, outcome,
      error_kind, input_tokens, output_tokens, latency_ms, cost_micros, spend_day)
    select $1, $3::uuid, case when call.outcome = 'used' then (select id from reply) end, call.provider,
      call.model, call.outcome, call.error_kind, call.input_tokens, call.output_tokens, call.latency_ms,
      call.cost_micros, call.spend_day
    from jsonb_to_recordset($23::jsonb) as call(provider text, model text, outcome text, error_kind text,
      input_tokens integer, output_tokens integer, latency_ms integer, cost_micros bigint, spend_day date)
    where not (select found from newer)
  )
  select (select found from newer) as newer, reply.id as reply_id,
    coalesce((select jsonb_agg(jsonb_build_array(parts.id, parts.part_index)) from parts), '[]'::jsonb) as parts
  from (select 1) as one left join reply on true`,
);

/** Record model calls that produced no stored message (an attempt that failed and will be retried). */
export async function recordModelCalls(
  db: Db,
  conversationId: string,
  inboundMessageId: string | null,
  calls: ModelCallRecord[],
): Promise<void> {
  if (calls.length === 0) return;
  // The same records as the outbound statement's, through the same jsonb_to_recordset shape.
  await db.execute(sql`
    insert into model_calls (conversation_id, inbound_message_id, provider, model, outcome, error_kind,
      input_tokens, output_tokens, latency_ms, cost_micros, spend_day)
    select ${conversationId}::uuid, ${inboundMessageId}::uuid, call.provider, call.model, call.outcome,
      call.error_kind, call.input_tokens, call.output_tokens, call.latency_ms, call.cost_micros, call.spend_day
    from jsonb_to_recordset(${JSON.stringify(calls.map(callRecord))}::jsonb) as call(provider text, model text,
      outcome text, error_kind text, input_tokens integer, output_tokens integer, latency_ms integer,
      cost_micros bigint, spend_day date)`);
}
