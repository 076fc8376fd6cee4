/**
 * Erasing one person (inbox/data-rights.ts): their conversations go with everything hanging off them, and the
 * two logs that must keep their rows (the webhook log, the audit log) keep them with a pseudonym instead of the
 * number and without any content. Every step is a short statement over a bounded number of rows, so an erasure
 * of a long-lived user never holds the tables for long; every step is idempotent, so an interrupted erasure is
 * finished by running it again.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connect.js';
import { uuidArray } from './outbound.js';
import { deleteInBatches } from './prune.js';
import { rowsOf } from './rows.js';
import { textArray } from './text-array.js';

/** Rows per statement: small enough that each statement takes milliseconds. */
export const ERASE_BATCH = 1000;

export interface SubjectCounts {
  conversations: number;
  messages: number;
  deliveries: number;
  deliveryEvents: number;
  modelCalls: number;
  notes: number;
  /** Rows of the logs that mention them: rewritten with the pseudonym, not deleted. */
  webhookLogs: number;
  auditEntries: number;
}

export interface Subject {
  conversationIds: string[];
  /** Every address the person is known by (the one asked for, their keys and reply addresses). */
  addresses: string[];
}

/**
 * The rows of the two logs that mention them, found once (each log is scanned once: their text is searched for
 * the person's addresses) and then counted, previewed and rewritten from these ids.
 */
export interface SubjectLogs {
  webhookLogIds: string[];
  auditIds: string[];
}

export async function findSubjectLogs(db: Db, subject: Subject): Promise<SubjectLogs> {
  const providerIds = await providerIdsOf(db, subject.conversationIds);
  const [webhookLogIds, auditIds] = await Promise.all([
    subjectWebhookLogIds(db, subject, providerIds),
    idsOf(db, sql`select id from audit_log where ${auditRowsOf(subject)}`),
  ]);
  return { webhookLogIds, auditIds };
}

/** The webhook rows about them (an export counts them); one scan of the table, see webhookLogsOf. */
export async function subjectWebhookLogIds(
  db: Db,
  subject: Subject,
  providerIds?: string[],
): Promise<string[]> {
  return idsOf(db, webhookLogsOf(subject, providerIds ?? (await providerIdsOf(db, subject.conversationIds))));
}

/** How many rows of each kind an erasure touches (the preview without --yes), the logs' rows as found. */
export async function countSubject(db: Db, subject: Subject, logs: SubjectLogs): Promise<SubjectCounts> {
  const ids = sql`${uuidArray(subject.conversationIds)}::uuid[]`;
  const count = async (query: SQL) => rowsOf<{ n: number }>(await db.execute(query))[0]?.n ?? 0;
  const providerIds = await providerIdsOf(db, subject.conversationIds);
  const [messages, deliveries, deliveryEvents, modelCalls, notes] = await Promise.all([
    count(sql`select count(*)::int as n from messages where conversation_id = any(${ids})`),
    count(sql`select count(*)::int as n from deliveries where conversation_id = any(${ids})`),
    count(
      sql`select count(*)::int as n from delivery_events
          where provider_message_id = any(${textArray(providerIds)}::text[])`,
    ),
    count(sql`select count(*)::int as n from model_calls where conversation_id = any(${ids})`),
    count(sql`select count(*)::int as n from conversation_notes where conversation_id = any(${ids})`),
  ]);
  return {
    conversations: subject.conversationIds.length,
    messages,
    deliveries,
    deliveryEvents,
    modelCalls,
    notes,
    webhookLogs: logs.webhookLogIds.length,
    auditEntries: logs.auditIds.length,
  };
}

/**
 * Deletes the conversations (messages first, in batches; deliveries, model calls and notes cascade), the status
 * callbacks of their messages, and rewrites the log rows found by findSubjectLogs. Returns what it deleted and
 * rewrote. A log row written after those were found (a late status callback) is left to a second run.
 */
export async function eraseSubject(
  db: Db,
  subject: Subject,
  pseudonym: string,
  logs: SubjectLogs,
  batchSize: number = ERASE_BATCH,
): Promise<SubjectCounts> {
  const before = await countSubject(db, subject, logs);
  const providerIds = await providerIdsOf(db, subject.conversationIds);
  const ids = sql`${uuidArray(subject.conversationIds)}::uuid[]`;
  const all = { batchSize, maxBatches: Number.MAX_SAFE_INTEGER };

  const webhookLogs = await rewriteInBatches(
    db,
    logs.webhookLogIds,
    (batch) => sql`update webhook_logs set body = ${JSON.stringify({ erased: pseudonym })}::jsonb,
        provider_message_id = null, error = ${scrubbed(sql`error`, subject.addresses, pseudonym)}
      where id = any(${batch}::uuid[])`,
    batchSize,
  );
  // The action, its actor and time stay (the trail of who handled this person); what they did it to does not.
  const auditEntries = await rewriteInBatches(
    db,
    logs.auditIds,
    (batch) => sql`update audit_log set target_type = 'user', target_id = ${pseudonym},
        details = ${JSON.stringify({ erased: true })}::jsonb
      where id = any(${batch}::uuid[])`,
    batchSize,
  );
  const deliveryEvents = await deleteInBatches(
    db,
    (limit) => sql`delete from delivery_events where (provider_message_id, status) in (
      select provider_message_id, status from delivery_events
      where provider_message_id = any(${textArray(providerIds)}::text[]) limit ${limit}) returning 1`,
    all,
  );
  const messages = await deleteInBatches(
    db,
    (limit) => sql`delete from messages where id in (
      select id from messages where conversation_id = any(${ids}) limit ${limit}) returning 1`,
    all,
  );
  // Their daily spend rows are keyed by their address: gone too (the day's global and per-number totals keep it).
  await db.execute(sql`delete from spend_daily where scope = 'user' and key in (
    select channel || ':' || user_address from conversations where id = any(${ids}))`);
  const conversations = await deleteInBatches(
    db,
    (limit) => sql`delete from conversations where id in (
      select id from conversations where id = any(${ids}) limit ${limit}) returning 1`,
    all,
  );
  return { ...before, conversations, messages, deliveryEvents, webhookLogs, auditEntries };
}

/** The channel's message ids of their inbound messages and outbound parts: what webhook and status rows carry. */
async function providerIdsOf(db: Db, conversationIds: string[]): Promise<string[]> {
  const ids = sql`${uuidArray(conversationIds)}::uuid[]`;
  const result = await db.execute(sql`
    select provider_message_id as id from messages
      where conversation_id = any(${ids}) and provider_message_id is not null
    union
    select provider_message_id from deliveries
      where conversation_id = any(${ids}) and provider_message_id is not null`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}

/**
 * Webhook rows about them: by message id (status callbacks, inbound posts), found through the partial index
 * webhook_logs_provider_message_idx; or holding one of their addresses as a JSON string value (From, To, the WaId
 * digits of a Twilio post), which takes one scan of the table's text (a row whose message is gone, a refused post).
 * A whole-value match, so another number that merely contains theirs is not taken for it.
 */
function webhookLogsOf(subject: Subject, providerIds: string[]): SQL {
  const mentions = needlesOf(subject.addresses).map((needle) => sql`position(${needle} in body::text) > 0`);
  const byId = sql`select id from webhook_logs where provider_message_id = any(${textArray(providerIds)}::text[])`;
  return mentions.length === 0
    ? byId
    : sql`${byId} union select id from webhook_logs where ${sql.join(mentions, sql` or `)}`;
}

/** Audit rows about their conversations, or whose details name one of their addresses. */
function auditRowsOf(subject: Subject): SQL {
  const mentions = needlesOf(subject.addresses).map(
    (needle) => sql`position(${needle} in details::text) > 0`,
  );
  return sql`((target_type = 'conversation' and target_id = any(${uuidArray(subject.conversationIds)}::text[]))
    ${mentions.length > 0 ? sql`or ${sql.join(mentions, sql` or `)}` : sql``})`;
}

/** Each address as a JSON string, and a WhatsApp number also as its bare E.164 digits (Twilio's WaId). */
export function needlesOf(addresses: string[]): string[] {
  const needles = new Set<string>();
  for (const address of addresses) {
    needles.add(JSON.stringify(address));
    const digits = /^(?:whatsapp:)?\+(\d{6,15})$/.exec(address)?.[1];
    if (digits) {
      needles.add(JSON.stringify(digits));
      needles.add(JSON.stringify(`+${digits}`));
    }
  }
  return [...needles];
}

/** `column` with every address replaced by the pseudonym. */
function scrubbed(column: SQL, addresses: string[], pseudonym: string): SQL {
  return addresses.reduce((text, address) => sql`replace(${text}, ${address}, ${pseudonym})`, column);
}

async function idsOf(db: Db, select: SQL): Promise<string[]> {
  return rowsOf<{ id: string }>(await db.execute(select)).map((row) => row.id);
}

/**
 * Rewrites the rows `batchSize` at a time, each batch its own short statement. The rewrite must make a row stop
 * matching, so running the erasure again finds nothing left.
 */
async function rewriteInBatches(
  db: Db,
  ids: string[],
  rewrite: (batch: SQL) => SQL,
  batchSize: number,
): Promise<number> {
  for (let start = 0; start < ids.length; start += batchSize) {
    await db.execute(rewrite(sql`${uuidArray(ids.slice(start, start + batchSize))}`));
  }
  return ids.length;
}

/** The payloads of their media messages, for the media store to delete first (pipeline/media-erasure.ts). */
export async function mediaMessagesOf(
  db: Db,
  conversationIds: string[],
): Promise<Array<{ id: string; payload: Record<string, unknown> | null }>> {
  const result = await db.execute(sql`select id, payload from messages
    where conversation_id = any(${uuidArray(conversationIds)}::uuid[]) and payload->'content'->>'type' = 'media'`);
  return rowsOf<{ id: string; payload: Record<string, unknown> | null }>(result);
}
