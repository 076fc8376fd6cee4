/**
 * Read-only queries behind the admin pages: the dashboard figures, the conversation list and thread, the webhook
 * log. Each page costs a bounded number of round trips whatever the table sizes (counts and aggregates are done
 * in PostgreSQL; lists are paginated).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ConversationMode } from '../domain/conversation-mode.js';
import type { Db } from './connect.js';
import { textSearch } from './message-search.js';
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

/**
 * Each figure reads today's rows only, through an index (messages_role_created_idx, deliveries_failed_idx,
 * webhook_logs_problem_idx), and today's replies are aggregated in one pass. The cost still grows with the
 * day's volume: docs/query-plans.md has the figures.
 */
export async function dashboardFigures(db: Db): Promise<DashboardFigures> {
  // Sums are float8, not int: a busy day's tokens pass 2^31 (int would fail with "integer out of range").
  const result = await db.execute(sql`
    with replies as (
      select count(*)::int as replies_today,
        (count(*) filter (where error_kind is not null))::int as ai_fallbacks_today,
        round(avg(latency_ms))::int as latency_avg_ms,
        round(percentile_cont(0.95) within group (order by latency_ms))::int as latency_p95_ms,
        coalesce(sum(input_tokens), 0)::float8 as input_tokens_today,
        coalesce(sum(output_tokens), 0)::float8 as output_tokens_today
      from messages where role = 'assistant' and created_at >= ${TODAY}
    )
    select replies.*,
      (select count(*)::int from messages where role = 'user' and created_at >= ${TODAY}) as inbound_today,
      (select count(*)::int from conversations where is_active) as active_conversations,
      (select count(*)::int from conversations where mode <> 'bot') as paused_conversations,
      (select count(*)::int from deliveries
        where status in ('failed', 'undelivered') and updated_at >= ${TODAY}) as failed_deliveries_today,
      (select count(*)::int from webhook_logs
        where response_status >= 400 and created_at >= ${TODAY}) as webhook_errors_today
    from replies`);
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

/**
 * The latest failed deliveries and AI fallbacks, newest first. Each side reads only its newest `limit` rows
 * from a partial index (deliveries_failed_idx, messages_ai_fallback_idx), so the cost does not grow with history.
 */
export async function recentProblems(db: Db, limit = 8): Promise<RecentProblem[]> {
  const result = await db.execute(sql`
    select p.conversation_id, c.user_address, c.profile_name, p.at, p.kind, p.detail
    from (
      (select conversation_id, updated_at as at, 'delivery' as kind,
        status || coalesce(' ' || error_code, '') as detail
      from deliveries where status in ('failed', 'undelivered')
      order by updated_at desc limit ${limit})
      union all
      (select conversation_id, created_at, 'ai', error_kind
      from messages where error_kind is not null
      order by created_at desc limit ${limit})
    ) p join conversations c on c.id = p.conversation_id
    order by p.at desc limit ${limit}`);
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
  /** Matching rows, counted up to COUNT_CAP: past it, `totalCapped` is true and the real number is larger. */
  total: number;
  totalCapped: boolean;
  page: number;
  pageSize: number;
}

/**
 * Lists count their rows only this far. An exact count(*) reads every matching row (or index entry), on each
 * page load: seconds over a webhook log of tens of millions of rows. Past the cap the page says "10,000+".
 */
export const COUNT_CAP = 10_000;

/** `select count(*)` of `from` (a FROM … WHERE …), stopping at COUNT_CAP + 1 rows. */
function countUpTo(from: SQL): SQL {
  return sql`select count(*)::int as total from (select 1 ${from} limit ${COUNT_CAP + 1}) counted`;
}

function totalOf(result: unknown): { total: number; totalCapped: boolean } {
  const counted = rowsOf<{ total: number }>(result)[0]?.total ?? 0;
  return { total: Math.min(counted, COUNT_CAP), totalCapped: counted > COUNT_CAP };
}

export type ConversationFilter = 'all' | 'active' | 'inactive' | 'paused';

export interface ConversationSummary {
  id: string;
  channel: string;
  userAddress: string;
  /** Our number the conversation is with; null: the channel's default. */
  businessAddress: string | null;
  profileName: string | null;
  isActive: boolean;
  mode: ConversationMode;
  lastActivityAt: Date;
  messageCount: number;
  lastMessage: string | null;
  lastRole: string | null;
  /** The last message's stored payload (null on old rows; see domain/content-payload.ts). */
  lastPayload: unknown;
  /** When searching: the newest message whose text matches, cut around the match (see message-search.ts). */
  snippet: string | null;
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
  const text = search ? textSearch(search) : null;
  if (search) {
    const pattern = contains(search);
    const byText = text ? sql` or ${text.condition}` : sql``;
    conditions.push(sql`(c.user_address ilike ${pattern} or c.profile_name ilike ${pattern}${byText})`);
  }
  if (query.filter === 'active') conditions.push(sql`c.is_active`);
  if (query.filter === 'inactive') conditions.push(sql`not c.is_active`);
  if (query.filter === 'paused') conditions.push(sql`c.mode <> 'bot'`);
  const where = sql.join(conditions, sql` and `);
  const [countResult, result] = await Promise.all([
    db.execute(countUpTo(sql`from conversations c where ${where}`)),
    // The page of conversations is chosen first; the message count and last message are then computed for its
    // rows only (computed in the outer select, they would run for every row skipped by the offset too).
    db.execute(sql`
      select c.id, c.channel, c.user_address, nullif(c.business_address, '') as business_address, c.profile_name,
        c.is_active, c.mode, c.last_activity_at,
        (select count(*)::int from messages m where m.conversation_id = c.id) as message_count,
        last.content as last_message, last.role as last_role, last.payload as last_payload,
        ${text ? text.snippet : sql`null`} as snippet
      from (
        select * from conversations c where ${where}
        order by c.last_activity_at desc, c.id
        limit ${query.pageSize} offset ${offsetOf(query.page, query.pageSize)}
      ) c
      left join lateral (
        select content, role, payload from messages m where m.conversation_id = c.id
        order by m.created_at desc, m.id desc limit 1
      ) last on true
      order by c.last_activity_at desc, c.id`),
  ]);
  const items = rowsOf<{
    id: string;
    channel: string;
    user_address: string;
    business_address: string | null;
    profile_name: string | null;
    is_active: boolean;
    mode: string;
    last_activity_at: Date;
    message_count: number;
    last_message: string | null;
    last_role: string | null;
    last_payload: unknown;
    snippet: string | null;
  }>(result).map((r) => ({
    id: r.id,
    channel: r.channel,
    userAddress: r.user_address,
    businessAddress: r.business_address,
    profileName: r.profile_name,
    isActive: r.is_active,
    mode: r.mode as ConversationMode,
    lastActivityAt: new Date(r.last_activity_at),
    messageCount: r.message_count,
    lastMessage: r.last_message,
    lastRole: r.last_role,
    lastPayload: r.last_payload,
    snippet: r.snippet,
  }));
  return { items, ...totalOf(countResult), page: query.page, pageSize: query.pageSize };
}

export interface ThreadDelivery {
  partIndex: number;
  partCount: number;
  status: string;
  errorCode: string | null;
  providerMessageId: string | null;
  updatedAt: Date;
  /** A part that is not plain text (a voice answer): its OutboundContent as stored; null for text. */
  payload?: unknown;
}

export interface ThreadMessage {
  id: string;
  role: string;
  content: string;
  createdAt: Date;
  processingStatus: string | null;
  /** Inbound: why it got a notice, was skipped or failed (domain/outcome.ts). */
  outcomeReason: string | null;
  /** Inbound: failed runs and overdue recovery runs on it. */
  attempts: number;
  /** Outbound: `assistant`, `system`, `operator:<id>`. */
  author: string | null;
  /** An operator's message: the account's username or `token <name>` (null if the account is gone). */
  operatorName: string | null;
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
  /** `metadata.window`: set when the message is the window template (domain/window.ts). */
  windowNote?: unknown;
}

/**
 * The newest `limit` messages of a conversation, oldest first, each reply with its delivered parts, and how many
 * messages it has in all.
 */
export async function conversationThread(
  db: Db,
  conversationId: string,
  limit: number,
): Promise<{ messages: ThreadMessage[]; total: number }> {
  const [messages, countResult] = await Promise.all([
    recentMessages(db, conversationId, limit),
    db.execute(sql`select count(*)::int as total from messages where conversation_id = ${conversationId}`),
  ]);
  return { messages, total: rowsOf<{ total: number }>(countResult)[0]?.total ?? 0 };
}

/**
 * The newest `limit` messages, oldest first (the thread page, and the live thread's poll). The parts are read per
 * shown message (deliveries_message_part_key), in the same statement: a page of a long conversation reads no
 * more of `deliveries` than a page of a short one. An operator's message names its author: the account's
 * username, or `token <name>` for an API token.
 */
export async function recentMessages(
  db: Db,
  conversationId: string,
  limit: number,
): Promise<ThreadMessage[]> {
  const messageResult = await db.execute(sql`
      select m.*, coalesce(parts.list, '[]'::json) as deliveries,
        case when m.author like 'operator:%' then coalesce(
          (select u.username from admin_users u where u.id::text = substr(m.author, 10)),
          (select 'token ' || t.name from api_tokens t where t.id::text = substr(m.author, 10)))
        end as operator_name
      from (
        select id, role, content, created_at, processing_status, outcome_reason, attempts, author, model, provider,
          input_tokens, output_tokens, latency_ms, error_kind, provider_message_id, payload,
          metadata -> 'window' as window_note
        from messages where conversation_id = ${conversationId}
        order by created_at desc, id desc limit ${limit}
      ) m
      left join lateral (
        select json_agg(json_build_object('partIndex', part_index, 'partCount', part_count, 'status', status,
          'errorCode', error_code, 'providerMessageId', provider_message_id, 'updatedAt', updated_at,
          'payload', d.payload)
          order by part_index) as list
        from deliveries d where d.message_id = m.id
      ) parts on true
      order by m.created_at, m.id`);
  return rowsOf<{
    id: string;
    role: string;
    content: string;
    created_at: Date;
    processing_status: string | null;
    outcome_reason: string | null;
    attempts: number;
    author: string | null;
    operator_name: string | null;
    model: string | null;
    provider: string | null;
    input_tokens: number | null;
    output_tokens: number | null;
    latency_ms: number | null;
    error_kind: string | null;
    deliveries: Array<Omit<ThreadDelivery, 'updatedAt'> & { updatedAt: string }>;
    provider_message_id: string | null;
    payload: unknown;
    window_note: unknown;
  }>(messageResult).map((m) => ({
    id: m.id,
    role: m.role,
    content: m.content,
    createdAt: new Date(m.created_at),
    processingStatus: m.processing_status,
    outcomeReason: m.outcome_reason,
    attempts: m.attempts,
    author: m.author,
    operatorName: m.operator_name,
    model: m.model,
    provider: m.provider,
    inputTokens: m.input_tokens,
    outputTokens: m.output_tokens,
    latencyMs: m.latency_ms,
    errorKind: m.error_kind,
    providerMessageId: m.provider_message_id,
    payload: m.payload,
    windowNote: m.window_note,
    deliveries: m.deliveries.map((d) => ({ ...d, updatedAt: new Date(d.updatedAt) })),
  }));
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
    db.execute(countUpTo(sql`from webhook_logs where ${where}`)),
    db.execute(sql`select ${LOG_COLUMNS} from webhook_logs where ${where}
      order by created_at desc, id limit ${query.pageSize} offset ${offsetOf(query.page, query.pageSize)}`),
  ]);
  return {
    items: rowsOf<LogRow>(result).map(toSummary),
    ...totalOf(countResult),
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
