/**
 * The operators' reads of conversations and their messages, as the HTTP API (and the admin's inbox) show them:
 * keyset-paginated so a deep page costs what the first one does. Called through the use cases of src/inbox/,
 * which check the reader's permission.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { CHANNEL_NAMES } from '../domain/types.js';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

/** Where a page ends: the last row's sort key, with the timestamp to the microsecond (a JS Date has ms only). */
export interface Keyset {
  at: string;
  id: string;
}

export interface ConversationRow {
  id: string;
  /** The address replies go to, exactly as the channel gave it (reply_address, else user_address). */
  user: string;
  profileName: string | null;
  channel: string;
  mode: ConversationMode;
  lastMessageAt: Date;
  /** The assigned operator account's username. */
  assignee: string | null;
  handoffAt: Date | null;
  handoffReason: string | null;
  /** The user asked for nothing more (db/opt-outs.ts): nothing is sent to them, operators included. */
  optedOut: boolean;
  optedOutAt: Date | null;
  /** `keyword`, `provider:21610`, `operator`; null when not opted out. */
  optOutSource: string | null;
  /** The keyword the user wrote, for a keyword opt-out. */
  optOutKeyword: string | null;
  /** When the user last wrote (null: never): the 24-hour window's start. */
  lastInboundAt: Date | null;
  key: Keyset;
}

export interface MessageRow {
  id: string;
  role: string;
  author: string | null;
  content: string;
  contentType: string;
  processingStatus: string | null;
  outcomeReason: string | null;
  createdAt: Date;
  /** The delivery status of each outbound part, in part order (empty for inbound). */
  partStatuses: string[];
  /** Outbound: the provider's code of the first failed part (Twilio 63016, …); null when none failed with one. */
  errorCode: string | null;
  /** Outbound: `metadata.window`, set when the message is a window template (domain/window.ts). */
  windowNote: unknown;
  key: Keyset;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A timestamp as exact text (UTC, microseconds): the cursor compares with what PostgreSQL stored. */
const exact = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const CONVERSATION_SELECT = sql`
  select c.id, coalesce(c.reply_address, c.user_address) as user_addr, c.profile_name, c.channel, c.mode,
    c.last_activity_at, c.handoff_at, c.handoff_reason, c.last_inbound_at, u.username as assignee,
    o.opted_out_at, o.source as opt_out_source, o.keyword as opt_out_keyword,
    ${exact(sql`c.last_activity_at`)} as key_at
  from conversations c left join admin_users u on u.id = c.assignee_id
  left join lateral (
    select o.opted_out_at, o.source, o.keyword from opt_outs o
    where o.channel = c.channel and o.address in (c.user_address, coalesce(c.reply_address, c.user_address))
    order by o.opted_out_at limit 1
  ) o on true`;

interface RawConversation {
  id: string;
  user_addr: string;
  profile_name: string | null;
  channel: string;
  mode: string;
  last_activity_at: Date | string;
  handoff_at: Date | string | null;
  handoff_reason: string | null;
  last_inbound_at: Date | string | null;
  assignee: string | null;
  opted_out_at: Date | string | null;
  opt_out_source: string | null;
  opt_out_keyword: string | null;
  key_at: string;
}

const date = (value: Date | string) => new Date(value);

function conversationRow(r: RawConversation): ConversationRow {
  return {
    id: r.id,
    user: r.user_addr,
    profileName: r.profile_name,
    channel: r.channel,
    mode: r.mode as ConversationMode,
    lastMessageAt: date(r.last_activity_at),
    assignee: r.assignee,
    handoffAt: r.handoff_at === null ? null : date(r.handoff_at),
    handoffReason: r.handoff_reason,
    optedOut: r.opted_out_at !== null,
    optedOutAt: r.opted_out_at === null ? null : date(r.opted_out_at),
    optOutSource: r.opt_out_source,
    optOutKeyword: r.opt_out_keyword,
    lastInboundAt: r.last_inbound_at === null ? null : date(r.last_inbound_at),
    key: { at: r.key_at, id: r.id },
  };
}

/**
 * Conversations, newest activity first (the order of conversations_last_activity_idx: time descending, id
 * ascending), `limit` of them after `after`. `user` matches the stored key or the reply address exactly.
 */
export async function findConversations(
  db: Db,
  query: {
    mode?: ConversationMode | undefined;
    user?: string | undefined;
    limit: number;
    after?: Keyset | undefined;
  },
): Promise<ConversationRow[]> {
  const conditions: SQL[] = [sql`true`];
  if (query.mode) conditions.push(sql`c.mode = ${query.mode}`);
  if (query.user !== undefined) {
    // As addressIs (conversations.ts): every channel named so the key's index, which leads with the channel, is
    // probed; the reply address has its own index.
    const channels = sql.join(
      CHANNEL_NAMES.map((name) => sql`${name}`),
      sql`, `,
    );
    conditions.push(
      sql`(c.reply_address = ${query.user} or (c.channel in (${channels}) and c.user_address = ${query.user}))`,
    );
  }
  if (query.after) {
    const at = sql`${query.after.at}::timestamptz`;
    conditions.push(
      sql`(c.last_activity_at < ${at} or (c.last_activity_at = ${at} and c.id > ${query.after.id}::uuid))`,
    );
  }
  const result = await db.execute(sql`${CONVERSATION_SELECT}
    where ${sql.join(conditions, sql` and `)}
    order by c.last_activity_at desc, c.id
    limit ${query.limit}`);
  return rowsOf<RawConversation>(result).map(conversationRow);
}

/** One conversation; null when there is none with this id (or the id is not a uuid). */
export async function findConversation(db: Db, id: string): Promise<ConversationRow | null> {
  if (!isUuid(id)) return null;
  const result = await db.execute(sql`${CONVERSATION_SELECT} where c.id = ${id}::uuid`);
  const row = rowsOf<RawConversation>(result)[0];
  return row ? conversationRow(row) : null;
}

const MESSAGE_SELECT = sql`
  select m.id, m.role, m.author, m.content, m.content_type, m.processing_status, m.outcome_reason,
    m.created_at, ${exact(sql`m.created_at`)} as key_at,
    coalesce((select json_agg(d.status order by d.part_index) from deliveries d where d.message_id = m.id),
      '[]'::json) as part_statuses,
    (select d.error_code from deliveries d
      where d.message_id = m.id and d.status in ('failed', 'undelivered', 'canceled') and d.error_code is not null
      order by d.part_index limit 1) as error_code,
    m.metadata -> 'window' as window_note
  from messages m`;

interface RawMessage {
  id: string;
  role: string;
  author: string | null;
  content: string;
  content_type: string;
  processing_status: string | null;
  outcome_reason: string | null;
  created_at: Date | string;
  key_at: string;
  part_statuses: string[];
  error_code: string | null;
  window_note: unknown;
}

function messageRow(r: RawMessage): MessageRow {
  return {
    id: r.id,
    role: r.role,
    author: r.author,
    content: r.content,
    contentType: r.content_type,
    processingStatus: r.processing_status,
    outcomeReason: r.outcome_reason,
    createdAt: date(r.created_at),
    partStatuses: r.part_statuses,
    errorCode: r.error_code,
    windowNote: r.window_note,
    key: { at: r.key_at, id: r.id },
  };
}

/**
 * The newest `limit` messages of a conversation older than `before` (all when absent), newest first; the parts'
 * statuses are read per returned message through deliveries_message_part_key.
 */
export async function findMessages(
  db: Db,
  query: { conversationId: string; limit: number; before?: Keyset | undefined },
): Promise<MessageRow[]> {
  const conditions: SQL[] = [sql`m.conversation_id = ${query.conversationId}::uuid`];
  if (query.before) {
    const at = sql`${query.before.at}::timestamptz`;
    conditions.push(
      sql`(m.created_at < ${at} or (m.created_at = ${at} and m.id < ${query.before.id}::uuid))`,
    );
  }
  const result = await db.execute(sql`${MESSAGE_SELECT}
    where ${sql.join(conditions, sql` and `)}
    order by m.created_at desc, m.id desc
    limit ${query.limit}`);
  return rowsOf<RawMessage>(result).map(messageRow);
}

/** One message of a conversation; null when there is none. */
export async function findMessage(db: Db, conversationId: string, id: string): Promise<MessageRow | null> {
  if (!isUuid(conversationId) || !isUuid(id)) return null;
  const result = await db.execute(
    sql`${MESSAGE_SELECT} where m.id = ${id}::uuid and m.conversation_id = ${conversationId}::uuid`,
  );
  const row = rowsOf<RawMessage>(result)[0];
  return row ? messageRow(row) : null;
}
