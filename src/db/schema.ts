/**
 * The database schema, one Drizzle table per concept. drizzle-kit turns this file into the SQL migrations in
 * ./migrations (`npm run db:generate`); never edit a migration that has been released, add a new one.
 */
import { sql, type SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { CONTENT_TYPES } from '../domain/content.js';
import { DELIVERY_STATUSES } from '../domain/delivery.js';
import { CONVERSATION_MODES } from '../domain/conversation-mode.js';
import { PROCESSING_STATUSES } from '../domain/outcome.js';
import { ROLES } from '../domain/roles.js';

const id = () => uuid('id').primaryKey().defaultRandom();
const stamp = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const createdAt = () => stamp('created_at').notNull().defaultNow();
/** Set on every update made through Drizzle's builders; raw SQL updates set it themselves. */
const updatedAt = () =>
  stamp('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`now()`);

/** `column IN ('a', 'b')` with the values inlined, as CHECK constraints and index predicates need. */
function isOneOf(column: string, values: readonly string[]): SQL {
  return sql.raw(`"${column}" in (${values.map((v) => `'${v}'`).join(', ')})`);
}

export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    channel: text('channel').notNull(),
    /**
     * The person's key on the channel: their stable scoped id when the channel gives one (Twilio ExternalUserId),
     * else the sender exactly as the channel gives it (`whatsapp:+14155550100`).
     */
    userAddress: text('user_address').notNull(),
    /** Where replies go: the sender of the latest inbound message, exactly as given (null: user_address). */
    replyAddress: text('reply_address'),
    /**
     * Our number the user wrote to (Twilio `whatsapp:+E164`, a Meta phone number id); replies go out from it. Part
     * of the key: one person writing to two of our numbers has two conversations, each with its number's persona.
     * '' stands for the channel's default number (rows from before 0012 that had none).
     */
    businessAddress: text('business_address').notNull().default(''),
    profileName: text('profile_name'),
    isActive: boolean('is_active').notNull().default(true),
    /** bot: the bot answers; human: an operator does, the bot is silent; paused: nobody is notified. */
    mode: text('mode').notNull().default('bot'),
    /** Turns before this instant are left out of the model's context (admin "reset context"). */
    contextResetAt: stamp('context_reset_at'),
    /** The operator who handles it (the inbox's assignment); null: anyone. */
    assigneeId: uuid('assignee_id').references((): AnyPgColumn => adminUsers.id, { onDelete: 'set null' }),
    /** When it last went to `human`: the inbox's wait time and the idle timer's start. */
    handoffAt: stamp('handoff_at'),
    /** Why it went to `human`: `keyword`, `model: <reason>`, `operator`. */
    handoffReason: text('handoff_reason'),
    /** The last message an operator sent: the idle timer counts from it (or from handoff_at). */
    lastOperatorMessageAt: stamp('last_operator_message_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastActivityAt: stamp('last_activity_at').notNull().defaultNow(),
    /**
     * When the user last wrote: WhatsApp's 24-hour window runs from it (domain/window.ts). Null: never (a
     * conversation a business opened). Apart from last_activity_at, which defaults to the row's creation.
     */
    lastInboundAt: stamp('last_inbound_at'),
  },
  (t) => [
    // One conversation per sender and business number even when its first messages arrive concurrently.
    unique('conversations_channel_user_business_key').on(t.channel, t.userAddress, t.businessAddress),
    check('conversations_channel_check', isOneOf('channel', ['twilio', 'meta', 'simulator'])),
    check('conversations_mode_check', isOneOf('mode', CONVERSATION_MODES)),
    index('conversations_idle_idx').on(t.lastActivityAt).where(sql.raw('"is_active"')),
    // The admin's conversation list, newest activity first (all, and the paused filter), one page at a time.
    index('conversations_last_activity_idx').on(t.lastActivityAt.desc().nullsFirst(), t.id),
    index('conversations_paused_idx')
      .on(t.lastActivityAt.desc().nullsFirst(), t.id)
      .where(sql.raw(`"mode" <> 'bot'`)),
    // Looking a person up by the address a channel gives (the API's `user` filter, the CLI): the reply address is
    // the latest sender exactly as given; the key (user_address) is reached through the unique index per channel.
    index('conversations_reply_address_idx').on(t.replyAddress),
    // The inbox ("needs a human", oldest waiting first) and the idle timer: only conversations in human mode.
    index('conversations_human_idx').on(t.handoffAt, t.id).where(sql.raw(`"mode" = 'human'`)),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    /** The text rendering for the model (domain/render-content.ts); the typed content is in `payload`. */
    content: text('content').notNull(),
    contentType: text('content_type').notNull().default('text'),
    /** `{ content, context }` as domain/content.ts types them; null on rows older than typed content (text). */
    payload: jsonb('payload').$type<Record<string, unknown>>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** Inbound: the channel's message id (Twilio MessageSid, Meta wamid); unique, so a redelivery is a no-op. */
    providerMessageId: text('provider_message_id').unique('messages_provider_message_id_key'),
    /** Inbound only: pending → answered | notice | skipped | failed (domain/outcome.ts). */
    processingStatus: text('processing_status'),
    /** Inbound only: why it was not answered (a notice, a skip, a failure), as a stable code. */
    outcomeReason: text('outcome_reason'),
    /** Inbound only: how many worker runs started on it; bounded, then it fails for good. */
    attempts: integer('attempts').notNull().default(0),
    /** Outbound only: `assistant`, `system` or `operator:<admin user id>`. */
    author: text('author'),
    /**
     * Outbound only: the idempotency key (`reply:<last inbound id>`, `operator:<request id>`, …). Unique, so a
     * retried job or request can never store (and send) the same message twice.
     */
    outboundKey: text('outbound_key').unique('messages_outbound_key_key'),
    /** Outbound replies: the last inbound message of the batch it answers. */
    replyToMessageId: uuid('reply_to_message_id').references((): AnyPgColumn => messages.id, {
      onDelete: 'set null',
    }),
    model: text('model'),
    provider: text('provider'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    latencyMs: integer('latency_ms'),
    /** Set when the reply is a friendly fallback after an AI failure (the AppError kind). */
    errorKind: text('error_kind'),
    // clock_timestamp(), not now(): rows written in one transaction must still order by creation.
    createdAt: stamp('created_at')
      .notNull()
      .default(sql`clock_timestamp()`),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('messages_role_check', isOneOf('role', ['user', 'assistant', 'system'])),
    check('messages_processing_status_check', isOneOf('processing_status', PROCESSING_STATUSES)),
    check('messages_content_type_check', isOneOf('content_type', CONTENT_TYPES)),
    index('messages_conversation_created_idx').on(t.conversationId, t.createdAt),
    // The foreign key's ON DELETE SET NULL looks rows up by it (it lost its unique index to outbound_key).
    index('messages_reply_to_idx').on(t.replyToMessageId),
    // Only the (few) pending rows: the worker's batch of one conversation by prefix, the scheduler's
    // stranded-work sweep by reading them all. Keyed by conversation first: keyed by time alone, the planner
    // combined it with the conversation index and read every pending row of every conversation (a backlog after
    // an outage made each reply cost milliseconds).
    index('messages_pending_idx')
      .on(t.conversationId, t.createdAt)
      .where(sql.raw(`"processing_status" = 'pending'`)),
    // The dashboard's figures of the day (inbound, replies, latency, tokens) read today's rows only.
    index('messages_role_created_idx').on(t.role, t.createdAt),
    // The dashboard's recent problems: the newest AI fallbacks.
    index('messages_ai_fallback_idx').on(t.createdAt).where(sql.raw('"error_kind" is not null')),
    // Search across message text (admin inbox, API): word and prefix matches through an inverted index, so a
    // search stays an index lookup with millions of rows. 'simple' keeps every language's words as written.
    index('messages_content_search_idx').using('gin', sql`to_tsvector('simple', ${t.content})`),
  ],
);

const UNSENT = sql.raw(`"status" in ('pending', 'sending')`);

/** One row per outbound part: a long reply is split into several messages. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: id(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    partIndex: integer('part_index').notNull(),
    partCount: integer('part_count').notNull(),
    /** The part's text (a media part: its caption; a template: a rendering for the admin). */
    body: text('body').notNull(),
    /** A part that is not plain text: its OutboundContent (domain/content.ts); null for text. */
    payload: jsonb('payload').$type<Record<string, unknown>>(),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address'),
    status: text('status').notNull().default('pending'),
    providerMessageId: text('provider_message_id').unique('deliveries_provider_message_id_key'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    attempts: integer('attempts').notNull().default(0),
    sendingStartedAt: stamp('sending_started_at'),
    sentAt: stamp('sent_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('deliveries_message_part_key').on(t.messageId, t.partIndex),
    check('deliveries_status_check', isOneOf('status', DELIVERY_STATUSES)),
    // Unsent parts per conversation (sender) and stranded ones (scheduler): few rows, small index.
    index('deliveries_unsent_idx').on(t.conversationId, t.updatedAt).where(UNSENT),
    // The dashboard's failed deliveries (today's count, the newest few).
    index('deliveries_failed_idx').on(t.updatedAt).where(sql.raw(`"status" in ('failed', 'undelivered')`)),
  ],
);

/** Every status callback, kept even when it arrives before we stored the SID it is about. */
export const deliveryEvents = pgTable(
  'delivery_events',
  {
    providerMessageId: text('provider_message_id').notNull(),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    receivedAt: stamp('received_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'delivery_events_pkey', columns: [t.providerMessageId, t.status] }),
    check('delivery_events_status_check', isOneOf('status', DELIVERY_STATUSES)),
    // Retention: the sweep deletes the oldest events in batches.
    index('delivery_events_received_idx').on(t.receivedAt),
  ],
);

/**
 * Every model call, also the ones whose answer was discarded (newer messages were folded in) or that failed
 * before a fallback answered: what each answer cost and why it said what it said.
 */
export const modelCalls = pgTable(
  'model_calls',
  {
    id: id(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    /** The last inbound message of the batch the call answered. */
    inboundMessageId: uuid('inbound_message_id').references(() => messages.id, { onDelete: 'set null' }),
    /** The stored outbound message the call's answer became, when it was used. */
    outboundMessageId: uuid('outbound_message_id').references(() => messages.id, { onDelete: 'set null' }),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    /** used | discarded | failed */
    outcome: text('outcome').notNull(),
    errorKind: text('error_kind'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    latencyMs: integer('latency_ms'),
    /**
     * What the call cost in micro-dollars (1e-6 USD), computed when it was recorded from the price in force then,
     * so history does not change with prices; null: the model had no known price (domain/prices.ts).
     */
    costMicros: bigint('cost_micros', { mode: 'number' }),
    /** The day (in TIMEZONE) the call's spend counts for; null on rows from before 0014. */
    spendDay: date('spend_day', { mode: 'string' }),
    createdAt: createdAt(),
  },
  (t) => [
    check('model_calls_outcome_check', isOneOf('outcome', ['used', 'discarded', 'failed'])),
    index('model_calls_conversation_idx').on(t.conversationId, t.createdAt),
    index('model_calls_created_idx').on(t.createdAt),
    // The foreign keys' ON DELETE SET NULL looks rows up by these: without them, every message deleted by
    // retention or an erasure would scan model_calls twice.
    index('model_calls_inbound_message_idx')
      .on(t.inboundMessageId)
      .where(sql.raw('"inbound_message_id" is not null')),
    index('model_calls_outbound_message_idx')
      .on(t.outboundMessageId)
      .where(sql.raw('"outbound_message_id" is not null')),
  ],
);

export const aiConfigurations = pgTable(
  'ai_configurations',
  {
    id: id(),
    name: text('name').notNull().unique('ai_configurations_name_key'),
    provider: text('provider').notNull(),
    apiKeyEncrypted: text('api_key_encrypted'),
    model: text('model').notNull(),
    baseUrl: text('base_url'),
    systemPrompt: text('system_prompt'),
    temperature: real('temperature'),
    maxTokens: integer('max_tokens'),
    /** The model sees images (issue #15); null: decided by the table of well-known vision models. */
    vision: boolean('vision'),
    /** Answer a voice note with a voice note too (issue #15); off by default. */
    voiceAnswers: boolean('voice_answers').notNull().default(false),
    /** The speech endpoint's voice for voice answers (`alloy`); null: SPEECH_VOICE. */
    voice: text('voice'),
    /** This configuration's own price, USD per million input/output tokens; null: the price table's. */
    inputPriceUsd: doublePrecision('input_price_usd'),
    outputPriceUsd: doublePrecision('output_price_usd'),
    isActive: boolean('is_active').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // At most one active configuration, enforced by the database rather than by careful callers.
  (t) => [uniqueIndex('ai_configurations_one_active_idx').on(t.isActive).where(sql.raw('"is_active"'))],
);

/**
 * Model spend per day, counted as model calls are recorded (a trigger on model_calls, migration 0014): rows per
 * (day, scope, key), incremented in the statement that records the call, so every worker and every path that
 * records calls counts, atomically. Scopes: `global` (key ''), `user` (`<channel>:<user address>`), `number`
 * (`<channel>:<business address>`), `model` (the model name). Each row is split in 16 shards (by conversation)
 * so that concurrent workers do not queue on one hot row; a figure is the sum of its shards.
 */
export const spendDaily = pgTable(
  'spend_daily',
  {
    day: date('day', { mode: 'string' }).notNull(),
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    shard: smallint('shard').notNull(),
    costMicros: bigint('cost_micros', { mode: 'number' }).notNull().default(0),
    calls: integer('calls').notNull().default(0),
    /** Calls of models without a price: their cost is unknown, not zero. */
    unpricedCalls: integer('unpriced_calls').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.scope, t.key, t.shard] }),
    check('spend_daily_scope_check', isOneOf('scope', ['global', 'user', 'number', 'model'])),
  ],
);

/** The global spend alerts sent (80 and 100 % of SPEND_CAP_DAILY_USD): the row's insert is the claim, once a day. */
export const spendAlerts = pgTable(
  'spend_alerts',
  {
    day: date('day', { mode: 'string' }).notNull(),
    percent: integer('percent').notNull(),
    spentMicros: bigint('spent_micros', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.day, t.percent] })],
);

export const webhookLogs = pgTable(
  'webhook_logs',
  {
    id: id(),
    channel: text('channel').notNull(),
    kind: text('kind').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    body: jsonb('body').$type<Record<string, unknown>>().notNull().default({}),
    responseStatus: integer('response_status').notNull(),
    processingTimeMs: real('processing_time_ms').notNull(),
    error: text('error'),
    providerMessageId: text('provider_message_id'),
    createdAt: createdAt(),
  },
  (t) => [
    check('webhook_logs_kind_check', isOneOf('kind', ['inbound', 'status'])),
    index('webhook_logs_created_idx').on(t.createdAt),
    // A person's erasure finds the webhook rows of their messages by id (inbox/data-rights.ts).
    index('webhook_logs_provider_message_idx')
      .on(t.providerMessageId)
      .where(sql.raw('"provider_message_id" is not null')),
    // The dashboard's webhook errors of the day and the log's error filters: a small share of the rows.
    index('webhook_logs_problem_idx')
      .on(t.createdAt)
      .where(sql.raw('"error" is not null or "response_status" >= 400')),
  ],
);

/** Operator accounts: `admin` (everything), `agent` (conversations), `viewer` (read only); domain/roles.ts. */
export const adminUsers = pgTable(
  'admin_users',
  {
    id: id(),
    username: text('username').notNull().unique('admin_users_username_key'),
    passwordHash: text('password_hash').notNull(),
    role: text('role').notNull().default('admin'),
    createdAt: createdAt(),
    lastLoginAt: stamp('last_login_at'),
  },
  () => [check('admin_users_role_check', isOneOf('role', ROLES))],
);

/**
 * Bearer tokens of the HTTP API (`chatbot api-token create`). Only the SHA-256 of a token is stored: a copy of
 * this table opens nothing. Revoked tokens stay, so the audit log's references keep their name.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    tokenHash: text('token_hash').notNull().unique('api_tokens_token_hash_key'),
    createdAt: createdAt(),
    lastUsedAt: stamp('last_used_at'),
    revokedAt: stamp('revoked_at'),
  },
  (t) => [
    check('api_tokens_role_check', isOneOf('role', ROLES)),
    // One live token per name, so `api-token revoke NAME` means one thing.
    uniqueIndex('api_tokens_live_name_idx').on(t.name).where(sql.raw('"revoked_at" is null')),
  ],
);

/**
 * Every operator action (a reply, a mode switch, an assignment, a context reset, an AI configuration change, a
 * key rotation, a login and a failed one): who, what, when, on what, from where. Append-only.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    createdAt: stamp('created_at')
      .notNull()
      .default(sql`clock_timestamp()`),
    /** user | token | cli | system */
    actorKind: text('actor_kind').notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name').notNull(),
    /** A stable code: `conversation.reply`, `conversation.mode`, `login.failure`, … */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    check('audit_log_actor_kind_check', isOneOf('actor_kind', ['user', 'token', 'cli', 'system'])),
    index('audit_log_created_idx').on(t.createdAt.desc(), t.id),
    index('audit_log_target_idx').on(t.targetType, t.targetId, t.createdAt),
  ],
);

/** Operators' internal notes on a conversation: shown in the inbox, never sent to the user nor given to the model. */
export const conversationNotes = pgTable(
  'conversation_notes',
  {
    id: id(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    authorKind: text('author_kind').notNull(),
    authorId: text('author_id'),
    authorName: text('author_name').notNull(),
    body: text('body').notNull(),
    createdAt: stamp('created_at')
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [
    index('conversation_notes_conversation_idx').on(t.conversationId, t.createdAt),
    // Retention deletes notes by age across all conversations (db/retention.ts).
    index('conversation_notes_created_idx').on(t.createdAt),
  ],
);

/**
 * Admin web UI sessions, kept server-side so they survive restarts and are shared by every web replica. The
 * cookie carries a random token; only its SHA-256 is stored, so a copy of this table opens no session.
 */
export const adminSessions = pgTable(
  'admin_sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => adminUsers.id, { onDelete: 'cascade' }),
    /** Synchroniser token every POST of this session must carry. */
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    lastSeenAt: stamp('last_seen_at').notNull().defaultNow(),
    expiresAt: stamp('expires_at').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('admin_sessions_expires_idx').on(t.expiresAt)],
);

/**
 * Who asked us to send them nothing (WhatsApp's opt-out rule), per person and not per conversation: keyed by the
 * channel and an address, so it survives a context reset, retention and a new conversation, and a person keyed by
 * a scoped id and by a phone number is matched under both (one row each). Deleted when the user opts back in.
 */
export const optOuts = pgTable(
  'opt_outs',
  {
    channel: text('channel').notNull(),
    /** A conversation's key (user_address) or its reply address, exactly as the channel gives it. */
    address: text('address').notNull(),
    optedOutAt: stamp('opted_out_at')
      .notNull()
      .default(sql`clock_timestamp()`),
    /** `keyword`, `provider:21610`, `operator`. */
    source: text('source').notNull(),
    /** The keyword the user wrote (as configured), for a keyword opt-out. */
    keyword: text('keyword'),
  },
  (t) => [primaryKey({ columns: [t.channel, t.address] })],
);

/**
 * The business numbers this deployment answers on, beside the environment's single default number (which needs
 * no row): Twilio senders (`whatsapp:+E164`) and Meta phone number ids, each with its own AI configuration (its
 * persona). Credentials are encrypted with FIELD_ENCRYPTION_KEY like AI keys (security/field-cipher.ts): a JSON
 * object of the channel's secrets (Meta: accessToken, appSecret, verifyToken; Twilio: accountSid, authToken).
 */
export const businessNumbers = pgTable(
  'business_numbers',
  {
    id: id(),
    channel: text('channel').notNull(),
    /** Twilio: `whatsapp:+E164`; Meta: the phone number id. What inbound messages carry as their `to`. */
    address: text('address').notNull(),
    /** A name for people (admin, CLI, logs); the display phone number by default. */
    name: text('name'),
    /** The AI configuration that answers on this number; null: the active one (or the environment's). */
    aiConfigId: uuid('ai_config_id').references((): AnyPgColumn => aiConfigurations.id, {
      onDelete: 'set null',
    }),
    credentialsEncrypted: text('credentials_encrypted'),
    isActive: boolean('is_active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('business_numbers_channel_address_key').on(t.channel, t.address),
    check('business_numbers_channel_check', isOneOf('channel', ['twilio', 'meta'])),
  ],
);
