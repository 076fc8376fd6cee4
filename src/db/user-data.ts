/**
 * Everything stored about one person, read for a data export (inbox/data-rights.ts): their conversations found
 * by address as `addressIs` finds them (key or reply address, every channel), and all that hangs off them.
 */
import { desc, eq, sql, type SQL } from 'drizzle-orm';
import { addressIs } from './conversations.js';
import type { Db } from './connect.js';
import { uuidArray } from './outbound.js';
import { rowsOf } from './rows.js';
import { textArray } from './text-array.js';
import { adminUsers, conversations } from './schema.js';

export interface SubjectConversation {
  id: string;
  channel: string;
  userAddress: string;
  replyAddress: string | null;
  businessAddress: string | null;
  profileName: string | null;
  mode: string;
  isActive: boolean;
  assigneeName: string | null;
  handoffAt: Date | null;
  handoffReason: string | null;
  contextResetAt: Date | null;
  createdAt: Date;
  lastActivityAt: Date;
}

/** The conversations of the person with this address, newest activity first; empty when they are unknown. */
export async function subjectConversations(db: Db, address: string): Promise<SubjectConversation[]> {
  return db
    .select({
      id: conversations.id,
      channel: conversations.channel,
      userAddress: conversations.userAddress,
      replyAddress: conversations.replyAddress,
      businessAddress: conversations.businessAddress,
      profileName: conversations.profileName,
      mode: conversations.mode,
      isActive: conversations.isActive,
      assigneeName: adminUsers.username,
      handoffAt: conversations.handoffAt,
      handoffReason: conversations.handoffReason,
      contextResetAt: conversations.contextResetAt,
      createdAt: conversations.createdAt,
      lastActivityAt: conversations.lastActivityAt,
    })
    .from(conversations)
    .leftJoin(adminUsers, eq(adminUsers.id, conversations.assigneeId))
    .where(addressIs(address))
    .orderBy(desc(conversations.lastActivityAt));
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  role: string;
  author: string | null;
  content: string;
  contentType: string;
  payload: Record<string, unknown> | null;
  /** What the system noted on it (a window template's note with the operator's original text, …). */
  metadata: Record<string, unknown>;
  processingStatus: string | null;
  outcomeReason: string | null;
  providerMessageId: string | null;
  replyToMessageId: string | null;
  createdAt: Date;
}

export interface StoredDelivery {
  messageId: string;
  partIndex: number;
  partCount: number;
  body: string;
  payload: Record<string, unknown> | null;
  toAddress: string;
  fromAddress: string | null;
  status: string;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Every status callback received for this part, oldest first. */
  events: Array<{ status: string; errorCode: string | null; receivedAt: string }>;
}

/** Cost and outcome of a model call; never the prompt (it is rebuilt from the messages, not stored). */
export interface StoredModelCall {
  conversationId: string;
  inboundMessageId: string | null;
  outboundMessageId: string | null;
  provider: string;
  model: string;
  outcome: string;
  errorKind: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  latencyMs: number | null;
  createdAt: Date;
}

export interface StoredNote {
  conversationId: string;
  authorName: string;
  body: string;
  createdAt: Date;
}

export interface StoredAuditEntry {
  createdAt: Date;
  actorKind: string;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface SubjectRecords {
  messages: StoredMessage[];
  deliveries: StoredDelivery[];
  modelCalls: StoredModelCall[];
  notes: StoredNote[];
  audit: StoredAuditEntry[];
}

const dates = <T extends Record<string, unknown>>(row: T, ...keys: Array<keyof T>): T => {
  // Raw SQL answers timestamps as strings on node-postgres: the export's dates are Dates like the builders'.
  const copy = { ...row };
  for (const key of keys) if (typeof copy[key] === 'string') copy[key] = new Date(copy[key]) as T[keyof T];
  return copy;
};

/**
 * The rows of these conversations, each table in creation order, and the audit entries about them (their
 * conversations as the target, or one of the person's pseudonyms for earlier exports and erasures).
 */
export async function subjectRecords(
  db: Db,
  conversationIds: string[],
  pseudonyms: string[],
): Promise<SubjectRecords> {
  const ids = sql`${uuidArray(conversationIds)}::uuid[]`;
  const read = async <T extends Record<string, unknown>>(query: SQL, ...dateKeys: Array<keyof T>) =>
    rowsOf<T>(await db.execute(query)).map((row) => dates(row, ...dateKeys));
  const [messages, deliveries, modelCalls, notes, audit] = await Promise.all([
    read<StoredMessage & Record<string, unknown>>(
      sql`select id, conversation_id as "conversationId", role, author, content, content_type as "contentType",
        payload, coalesce(metadata, '{}'::jsonb) as metadata, processing_status as "processingStatus",
        outcome_reason as "outcomeReason",
        provider_message_id as "providerMessageId", reply_to_message_id as "replyToMessageId",
        created_at as "createdAt"
      from messages where conversation_id = any(${ids}) order by created_at, id`,
      'createdAt',
    ),
    read<StoredDelivery & Record<string, unknown>>(
      sql`select d.message_id as "messageId", d.part_index as "partIndex", d.part_count as "partCount", d.body,
        d.payload, d.to_address as "toAddress", d.from_address as "fromAddress", d.status,
        d.provider_message_id as "providerMessageId", d.error_code as "errorCode",
        d.error_message as "errorMessage", d.sent_at as "sentAt", d.created_at as "createdAt",
        d.updated_at as "updatedAt",
        coalesce((select json_agg(json_build_object('status', e.status, 'errorCode', e.error_code,
            'receivedAt', e.received_at) order by e.received_at)
          from delivery_events e where e.provider_message_id = d.provider_message_id), '[]') as events
      from deliveries d where d.conversation_id = any(${ids}) order by d.created_at, d.message_id, d.part_index`,
      'sentAt',
      'createdAt',
      'updatedAt',
    ),
    read<StoredModelCall & Record<string, unknown>>(
      sql`select conversation_id as "conversationId", inbound_message_id as "inboundMessageId",
        outbound_message_id as "outboundMessageId", provider, model, outcome, error_kind as "errorKind",
        input_tokens as "inputTokens", output_tokens as "outputTokens", latency_ms as "latencyMs",
        created_at as "createdAt"
      from model_calls where conversation_id = any(${ids}) order by created_at, id`,
      'createdAt',
    ),
    read<StoredNote & Record<string, unknown>>(
      sql`select conversation_id as "conversationId", author_name as "authorName", body, created_at as "createdAt"
      from conversation_notes where conversation_id = any(${ids}) order by created_at, id`,
      'createdAt',
    ),
    read<StoredAuditEntry & Record<string, unknown>>(
      sql`select created_at as "createdAt", actor_kind as "actorKind", actor_name as "actorName", action,
        target_type as "targetType", target_id as "targetId", ip, details
      from audit_log
      where (target_type = 'conversation' and target_id = any(${uuidArray(conversationIds)}::text[]))
        or (target_type = 'user' and target_id = any(${textArray(pseudonyms)}::text[]))
      order by created_at, id`,
      'createdAt',
    ),
  ]);
  return { messages, deliveries, modelCalls, notes, audit };
}
