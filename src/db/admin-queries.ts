/**
 * Read-only queries behind the admin pages: the dashboard figures, the conversation list and thread, the webhook
 * log. Each page costs a bounded number of round trips whatever the table sizes (counts and aggregates are done
 * in PostgreSQL; lists are paginated).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ConversationMode } from '../domain/conversation-mode.js';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

/** "Today" is the UTC calendar day, the same for every operator and every server. */
const TODAY = sql`(date_trunc('day', now() at time zone 'UTC') at time zone 'UTC')`;

export interface DashboardFigures {
  inboundToday: number;
  repliesToday: number;
  activeConversations: number;
  pausedConversations: number;
  failedDeliveriesToday: number;
  /** Replies that are a friendly apology after the model failed (messages.error_kind set). */
  aiFallbacksToday: number;
  webhookErrorsToday: number;
  latencyAvgMs: number | null;
  latencyP95Ms: number | null;
  inputTokensToday: number;
  outputTokensToday: number;
}

export async function dashboardFigures(db: Db): Promise<DashboardFigures> {
  const result = await db.execute(sql`
    with replies as (
      select latency_ms, input_tokens, output_tokens, error_kind from messages
      where role = 'assistant' and created_at >= ${TODAY}
    )
    select
      (select count(*)::int from messages where role = 'user' and created_at >= ${TODAY}) as inbound_today,
      (select count(*)::int from replies) as replies_today,
      (select count(*)::int from conversations where is_active) as active_conversations,
      (select count(*)::int from conversations where mode <> 'bot') as paused_conversations,
      (select count(*)::int from deliveries
        where status in ('failed', 'undelivered') and updated_at >= ${TODAY}) as failed_deliveries_today,
      (select count(*)::int from replies where error_kind is not null) as ai_fallbacks_today,
      (select count(*)::int from webhook_logs
        where response_status >= 400 and created_at >= ${TODAY}) as webhook_errors_today,
      (select round(avg(latency_ms))::int from replies) as latency_avg_ms,
      (select round(percentile_cont(0.95) within group (order by latency_ms))::int from replies
        where latency_ms is not null) as latency_p95_ms,
      (select coalesce(sum(input_tokens), 0)::int from replies) as input_tokens_today,
      (select coalesce(sum(output_tokens), 0)::int from replies) as output_tokens_today`);
  const row = rowsOf<Record<string, number | null>>(result)[0] ?? {};
  const n = (key: string) => row[key] ?? 0;
  return {
    inboundToday: n('inbound_today'),
    repliesToday: n('replies_today'),
    activeConversations: n('active_conversations'),
    pausedConversations: n('paused_conversations'),
    failedDeliveriesToday: n('failed_deliveries_today'),
    aiFallbacksToday: n('ai_fallbacks_today'),
    webhookErrorsToday: n('webhook_errors_today'),
    latencyAvgMs: row.latency_avg_ms ?? null,
    latencyP95Ms: row.latency_p95_ms ?? null,
    inputTokensToday: n('input_tokens_today'),
    outputTokensToday: n('output_tokens_today'),
  };
}

export interface RecentProblem {
  conversationId: string;
  userAddress: string;
  profileName: string | null;
  at: Date;
  /** `delivery` (a part the channel refused or lost) or `ai` (the user got an apology). */
  kind: 'delivery' | 'ai';
  detail: string;
}

/** The latest failed deliveries and AI fallbacks, newest first. */
export async function recentProblems(db: Db, limit = 8): Promise<RecentProblem[]> {
  const result = await db.execute(sql`
    select * from (
      select d.conversation_id, c.user_address, c.profile_name, d.updated_at as at, 'delivery' as kind,
        d.status || coalesce(' ' || d.error_code, '') as detail
      from deliveries d join conversations c on c.id = d.conversation_id
      where d.status in ('failed', 'undelivered')
      union all
      select m.conversation_id, c.user_address, c.profile_name, m.created_at, 'ai', m.error_kind
      from messages m join conversations c on c.id = m.conversation_id
      where m.error_kind is not null
    ) problems order by at desc limit ${limit}`);
  return rowsOf<{
    conversation_id: string;
    user_address: string;
    profile_name: string | null;
    at: Date;
    kind: 'delivery' | 'ai';
    detail: string;
  }>(result).map((r) => ({
    conversationId: r.conversation_id,
    userAddress: r.user_address,
    profileName: r.profile_name,
    at: new Date(r.at),
    kind: r.kind,
    detail: r.detail,
  }));
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export type ConversationFilter = 'all' | 'active' | 'inactive' | 'paused';

export interface ConversationSummary {
  id: string;
  channel: string;
  userAddress: string;
  profileName: string | null;
  isActive: boolean;
  mode: ConversationMode;
  lastActivityAt: Date;
  messageCount: number;
  lastMessage: string | null;
  lastRole: string | null;
  /** The last message's stored payload (null on old rows; see domain/content-payload.ts). */
  lastPayload: unknown;
}

/** `%text%` for ILIKE with the user's own % and _ taken literally. */
function contains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function offsetOf(page: number, pageSize: number): number {
  return (Math.max(1, page) - 1) * pageSize;
}

export async function listConversations(
  db: Db,
  query: { search?: string; filter?: ConversationFilter; page: number; pageSize: number },
): Promise<Page<ConversationSummary>> {
  const conditions: SQL[] = [sql`true`];
  const search = query.search?.trim();
  if (search) {
    const pattern = contains(search);
    conditions.push(sql`(c.user_address ilike ${pattern} or c.profile_name ilike ${pattern})`);
  }
  if (query.filter === 'active') conditions.push(sql`c.is_active`);
  if (query.filter === 'inactive') conditions.push(sql`not c.is_active`);
  if (query.filter === 'paused') conditions.push(sql`c.mode <> 'bot'`);
  const where = sql.join(conditions, sql` and `);
  const [countResult, result] = await Promise.all([
    db.execute(sql`select count(*)::int as total from conversations c where ${where}`),
    db.execute(sql`
      select c.id, c.channel, c.user_address, c.profile_name, c.is_active, c.mode, c.last_activity_at,
        (select count(*)::int from messages m where m.conversation_id = c.id) as message_count,
        last.content as last_message, last.role as last_role, last.payload as last_payload
      from conversations c
      left join lateral (
        select content, role, payload from messages m where m.conversation_id = c.id
        order by m.created_at desc, m.id desc limit 1
      ) last on true
      where ${where}
      order by c.last_activity_at desc, c.id
      limit ${query.pageSize} offset ${offsetOf(query.page, query.pageSize)}`),
  ]);
  const total = rowsOf<{ total: number }>(countResult)[0]?.total ?? 0;
  const items = rowsOf<{
    id: string;
    channel: string;
    user_address: string;
    profile_name: string | null;
    is_active: boolean;
    mode: string;
    last_activity_at: Date;
    message_count: number;
    last_message: string | null;
    last_role: string | null;
    last_payload: unknown;
  }>(result).map((r) => ({
    id: r.id,
    channel: r.channel,
    userAddress: r.user_address,
    profileName: r.profile_name,
    isActive: r.is_active,
    mode: r.mode as ConversationMode,
    lastActivityAt: new Date(r.last_activity_at),
    messageCount: r.message_count,
    lastMessage: r.last_message,
    lastRole: r.last_role,
    lastPayload: r.last_payload,
  }));
  return { items, total, page: query.page, pageSize: query.pageSize };
}

export interface ThreadDelivery {
  partIndex: number;
  partCount: number;
  status: string;
  errorCode: string | null;
  providerMessageId: string | null;
  updatedAt: Date;
}

export interface ThreadMessage {
  id: string;
  role: string;
  content: string;
  createdAt: Date;
  processingStatus: string | null;
  /** Inbound: why it got a notice, was skipped or failed (domain/outcome.ts). */
  outcomeReason: string | null;
  /** Outbound: `assistant`, `system`, `operator:<id>`. */
  author: string | null;
  model: string | null;
  provider: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  latencyMs: number | null;
  errorKind: string | null;
  deliveries: ThreadDelivery[];
  /** The channel's id of a user message (what quotes and reactions point at). */
  providerMessageId: string | null;
  /** `{ content, context }` as stored (null on rows older than the column); see domain/content-payload.ts. */
  payload: unknown;
}

/** The newest `limit` messages of a conversation, oldest first, each reply with its delivered parts. */
export async function conversationThread(
  db: Db,
  conversationId: string,
  limit: number,
): Promise<{ messages: ThreadMessage[]; total: number }> {
  const [messageResult, deliveryResult, countResult] = await Promise.all([
    db.execute(sql`
      select * from (
        select id, role, content, created_at, processing_status, outcome_reason, author, model, provider,
          input_tokens, output_tokens, latency_ms, error_kind, provider_message_id, payload
        from messages where conversation_id = ${conversationId}
        order by created_at desc, id desc limit ${limit}
      ) newest order by created_at, id`),
    db.execute(sql`
      select message_id, part_index, part_count, status, error_code, provider_message_id, updated_at
      from deliveries where conversation_id = ${conversationId} order by part_index`),
    db.execute(sql`select count(*)::int as total from messages where conversation_id = ${conversationId}`),
  ]);
  const byMessage = new Map<string, ThreadDelivery[]>();
  for (const d of rowsOf<{
    message_id: string;
    part_index: number;
    part_count: number;
    status: string;
    error_code: string | null;
    provider_message_id: string | null;
    updated_at: Date;
  }>(deliveryResult)) {
    const list = byMessage.get(d.message_id) ?? [];
    list.push({
      partIndex: d.part_index,
      partCount: d.part_count,
      status: d.status,
      errorCode: d.error_code,
      providerMessageId: d.provider_message_id,
      updatedAt: new Date(d.updated_at),
    });
    byMessage.set(d.message_id, list);
  }
  const messages = rowsOf<{
    id: string;
    role: string;
    content: string;
    created_at: Date;
    processing_status: string | null;
    outcome_reason: string | null;
    author: string | null;
    model: string | null;
    provider: string | null;
    input_tokens: number | null;
    output_tokens: number | null;
    latency_ms: number | null;
    error_kind: string | null;
    provider_message_id: string | null;
    payload: unknown;
  }>(messageResult).map((m) => ({
    id: m.id,
    role: m.role,
    content: m.content,
    createdAt: new Date(m.created_at),
    processingStatus: m.processing_status,
    outcomeReason: m.outcome_reason,
    author: m.author,
    model: m.model,
    provider: m.provider,
    inputTokens: m.input_tokens,
    outputTokens: m.output_tokens,
    latencyMs: m.latency_ms,
    errorKind: m.error_kind,
    providerMessageId: m.provider_message_id,
    payload: m.payload,
    deliveries: byMessage.get(m.id) ?? [],
  }));
  return { messages, total: rowsOf<{ total: number }>(countResult)[0]?.total ?? 0 };
}

export type WebhookStatusFilter = 'all' | 'ok' | 'client-error' | 'server-error' | 'error';

export interface WebhookLogSummary {
  id: string;
  channel: string;
  kind: string;
  method: string;
  path: string;
  responseStatus: number;
  processingTimeMs: number;
  error: string | null;
  providerMessageId: string | null;
  createdAt: Date;
}

export interface WebhookLogDetail extends WebhookLogSummary {
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const STATUS_CONDITION: Record<WebhookStatusFilter, SQL> = {
  all: sql`true`,
  ok: sql`response_status < 400`,
  'client-error': sql`response_status between 400 and 499`,
  'server-error': sql`response_status >= 500`,
  error: sql`(error is not null or response_status >= 400)`,
};

const LOG_COLUMNS = sql`id, channel, kind, method, path, response_status, processing_time_ms, error,
  provider_message_id, created_at`;

interface LogRow {
  id: string;
  channel: string;
  kind: string;
  method: string;
  path: string;
  response_status: number;
  processing_time_ms: number;
  error: string | null;
  provider_message_id: string | null;
  created_at: Date;
}

function toSummary(r: LogRow): WebhookLogSummary {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    method: r.method,
    path: r.path,
    responseStatus: r.response_status,
    processingTimeMs: r.processing_time_ms,
    error: r.error,
    providerMessageId: r.provider_message_id,
    createdAt: new Date(r.created_at),
  };
}

export async function listWebhookLogs(
  db: Db,
  query: { status: WebhookStatusFilter; kind?: 'inbound' | 'status'; page: number; pageSize: number },
): Promise<Page<WebhookLogSummary>> {
  const where = sql.join(
    [STATUS_CONDITION[query.status], query.kind ? sql`kind = ${query.kind}` : sql`true`],
    sql` and `,
  );
  const [countResult, result] = await Promise.all([
    db.execute(sql`select count(*)::int as total from webhook_logs where ${where}`),
    db.execute(sql`select ${LOG_COLUMNS} from webhook_logs where ${where}
      order by created_at desc, id limit ${query.pageSize} offset ${offsetOf(query.page, query.pageSize)}`),
  ]);
  return {
    items: rowsOf<LogRow>(result).map(toSummary),
    total: rowsOf<{ total: number }>(countResult)[0]?.total ?? 0,
    page: query.page,
    pageSize: query.pageSize,
  };
}

export async function getWebhookLog(db: Db, id: string): Promise<WebhookLogDetail | null> {
  const result = await db.execute(
    sql`select ${LOG_COLUMNS}, headers, body from webhook_logs where id = ${id}`,
  );
  const row = rowsOf<LogRow & { headers: Record<string, string>; body: Record<string, unknown> }>(result)[0];
  return row ? { ...toSummary(row), headers: row.headers, body: row.body } : null;
}
