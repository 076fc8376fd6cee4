import { z } from 'zod';
import { CONSENT_DEFAULTS } from '../domain/opt-out.js';
import { fieldKeyProblem, KEY_HELP } from '../security/field-encryption.js';

/** The Graph API version sent when META_GRAPH_API_VERSION is not set: a current one (Meta keeps each ~2 years). */
export const DEFAULT_GRAPH_API_VERSION = 'v24.0';

/**
 * The environment, as one zod schema. Names and defaults follow the original Django system (so its `.env`
 * keeps working), plus our additions. Secrets have no defaults. Only config/load.ts reads process.env.
 */

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''].includes(v),
    'must be true or false',
  )
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const num = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** A comma-separated list of words; empty entries dropped. */
const keywordList = (defaults: readonly string[]) =>
  z
    .string()
    .default(defaults.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((word) => word.trim())
        .filter((word) => word !== ''),
    );

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional()
    .refine(
      (v) => {
        if (v === undefined) return true;
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(' or ')})`,
    );

/**
 * Twilio's rules for ContentVariables: a JSON object, at most 100 pairs, keys without spaces of at most 16
 * characters, string values of at most 1600. Null when `value` keeps them.
 */
function templateVariablesProblem(value: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return 'must be a JSON object, e.g. {"1":"there"}';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'must be a JSON object, e.g. {"1":"there"}';
  const entries = Object.entries(parsed);
  if (entries.length > 100) return 'at most 100 variables';
  for (const [key, variable] of entries) {
    if (!/^[A-Za-z0-9_]{1,16}$/.test(key)) return `"${key}": a key is 1 to 16 letters, digits or underscores`;
    if (typeof variable !== 'string' || variable.length > 1600)
      return `"${key}": a value is a string of at most 1600 characters`;
  }
  return null;
}

/** A template's variables: a JSON object of strings, checked as Twilio and Meta take them. */
const templateVariables = optionalText.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const problem = templateVariablesProblem(value);
  if (problem === null) return JSON.parse(value) as Record<string, string>;
  ctx.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
});

export const LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),

  // HTTP
  PORT: int(0, 65535).default(8000),
  HOST: z.string().trim().default('0.0.0.0'),
  PUBLIC_BASE_URL: url(['http:', 'https:']),
  TRUST_PROXY: bool.default(false),
  WEBHOOK_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  /** Webhook audit rows wait this long to be written together (a crash loses at most this much of them). */
  WEBHOOK_LOG_FLUSH_MS: int(0, 10_000).default(100),
  /** Requests per client IP per window on the public endpoints (webhook, status, simulator); 0 turns it off. */
  IP_RATE_LIMIT_MAX: int(0).default(600),
  IP_RATE_LIMIT_WINDOW_SECONDS: int(1, 3600).default(60),

  // PostgreSQL: DATABASE_URL wins over DB_*
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DB_NAME: optionalText,
  DB_USER: optionalText,
  DB_PASSWORD: optionalText,
  DB_HOST: optionalText,
  DB_PORT: int(1, 65535).default(5432),
  DB_POOL_SIZE: int(1, 500).default(10),
  PGLITE_DATA_DIR: z.string().trim().default('./data/pglite'),
  /** Apply pending migrations when a process starts (under an advisory lock); false to run `chatbot migrate` yourself. */
  AUTO_MIGRATE: bool.default(true),

  // Redis: REDIS_URL wins over REDIS_*
  // redis+sentinel:// lists several host:port pairs, which URL() cannot parse: config/load.ts checks that form.
  REDIS_URL: z.union([
    z
      .string()
      .trim()
      .regex(/^redis\+sentinel:\/\//),
    url(['redis:', 'rediss:']),
  ]),
  // Redis behind Sentinel: host:port of each Sentinel, comma-separated, and the name of the monitored primary.
  REDIS_SENTINELS: optionalText,
  REDIS_SENTINEL_NAME: z.string().trim().min(1).default('mymaster'),
  REDIS_SENTINEL_PASSWORD: optionalText,
  REDIS_HOST: optionalText,
  REDIS_PORT: int(1, 65535).default(6379),
  REDIS_DB: int(0, 15).default(0),
  REDIS_PASSWORD: optionalText,
  REDIS_KEY_PREFIX: z.string().trim().min(1).default('chatbot'),

  // Twilio
  TWILIO_ACCOUNT_SID: optionalText.refine((v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v), {
    message: 'must look like AC followed by 32 hex characters',
  }),
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_WHATSAPP_NUMBER: optionalText.refine(
    (v) => v === undefined || /^whatsapp:\+[1-9]\d{6,14}$/.test(v),
    {
      message: 'must be whatsapp:+E164, e.g. whatsapp:+14155238886',
    },
  ),
  TWILIO_API_BASE_URL: url(['http:', 'https:']),
  SKIP_WEBHOOK_SIGNATURE_VERIFICATION: bool.default(false),

  // Meta WhatsApp Cloud API: the default Meta number (more with `chatbot number add --channel meta`)
  META_ACCESS_TOKEN: optionalText,
  META_APP_SECRET: optionalText,
  META_VERIFY_TOKEN: optionalText,
  META_PHONE_NUMBER_ID: optionalText.refine((v) => v === undefined || /^\d{5,20}$/.test(v), {
    message: "must be the number's id from Meta's app dashboard (digits), not the phone number",
  }),
  META_GRAPH_API_BASE_URL: url(['http:', 'https:']),
  META_GRAPH_API_VERSION: z
    .string()
    .trim()
    .regex(/^v\d+\.\d+$/, 'must look like v24.0')
    .default(DEFAULT_GRAPH_API_VERSION),

  // Local web chat simulator: on by default only when Twilio is not configured and NODE_ENV is not production
  SIMULATOR_ENABLED: bool.optional(),

  // AI
  AI_PROVIDER: z
    .enum(['openrouter', 'openai', 'anthropic', 'openai-compatible', 'offline'])
    .optional()
    .or(z.literal('').transform(() => undefined)),
  OPENROUTER_API_KEY: optionalText,
  OPENAI_API_KEY: optionalText,
  ANTHROPIC_API_KEY: optionalText,
  AI_MODEL: z.string().trim().min(1).default('openai/gpt-4o-mini'),
  OPENAI_MODEL: optionalText,
  AI_BASE_URL: url(['http:', 'https:']),
  AI_TIMEOUT_SECONDS: num(0.1, 600).default(30),
  /** Tried once when the main model fails, before the user gets an apology: provider/model, same keys. */
  AI_FALLBACK_MODEL: optionalText,
  AI_FALLBACK_PROVIDER: z
    .enum(['openrouter', 'openai', 'anthropic', 'openai-compatible'])
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** The AI_MODEL sees images (issue #15): true/false; unset: the table of well-known vision models decides. */
  AI_VISION: bool.optional(),
  /** The same for AI_FALLBACK_MODEL: unset, the table decides for it. */
  AI_FALLBACK_VISION: bool.optional(),
  AI_TEMPERATURE: num(0, 2).default(0.7),
  AI_MAX_TOKENS: int(1, 200_000).default(1024),
  SYSTEM_PROMPT: z
    .string()
    .default(
      'You are a helpful assistant answering on WhatsApp. Reply in the language of the user, briefly and in plain text.',
    ),

  // Secrets stored in the database (AI configuration API keys): AES-256-GCM, 32 bytes as base64 or 64 hex
  FIELD_ENCRYPTION_KEY: optionalText.refine((v) => v === undefined || fieldKeyProblem(v) === null, {
    message: `must be 32 bytes as base64 (44 characters) or 64 hex characters; ${KEY_HELP}`,
  }),
  /** The key being replaced during a rotation (`chatbot ai-config rotate-key`); still readable, never written. */
  FIELD_ENCRYPTION_KEY_PREVIOUS: optionalText.refine((v) => v === undefined || fieldKeyProblem(v) === null, {
    message: `must be 32 bytes as base64 (44 characters) or 64 hex characters; ${KEY_HELP}`,
  }),
  /**
   * The key of the pseudonyms that stand for erased people in the logs (security/pseudonym.ts). Never rotated: a new
   * key gives everyone a new pseudonym. Unset: derived from FIELD_ENCRYPTION_KEY, else from the older secrets.
   */
  PSEUDONYM_KEY: optionalText.refine((v) => v === undefined || fieldKeyProblem(v) === null, {
    message: `must be 32 bytes as base64 (44 characters) or 64 hex characters; ${KEY_HELP}`,
  }),
  /** How often running workers look for a changed active AI configuration. */
  AI_CONFIG_REFRESH_SECONDS: num(0.1, 3600).default(5),

  // Admin web UI at /admin/ (accounts from `chatbot createsuperuser`)
  ADMIN_ENABLED: bool.default(true),
  /** Signs the admin session cookie; derived from the other secrets when unset (set it in production). */
  ADMIN_SESSION_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters (e.g. `openssl rand -base64 32`)',
  }),
  /** An admin session ends after this long without a request. */
  ADMIN_SESSION_HOURS: num(0.1, 24 * 30).default(12),

  // Conversation behaviour
  MAX_CONVERSATION_HISTORY: int(1, 200).default(10),
  SESSION_TIMEOUT_MINUTES: int(1, 60 * 24 * 30).default(30),
  RATE_LIMIT_MAX_REQUESTS: int(1).default(10),
  RATE_LIMIT_WINDOW_SECONDS: int(1).default(60),
  /** Messages from one user arriving within this window are answered together by one LLM call. */
  BURST_WINDOW_MS: int(0, 60_000).default(1500),
  /** A burst that keeps going is answered after this long anyway. */
  BURST_MAX_WAIT_MS: int(0, 300_000).default(6000),
  /** Longer user messages are not sent to the model; the user is told the limit instead. */
  MAX_MESSAGE_LENGTH: int(1, 100_000).default(4096),
  /**
   * Words that hand the conversation to a person (whole words, any case, accents ignored; comma-separated). Empty:
   * only the model's handoff tool and the operators do.
   */
  HANDOFF_KEYWORDS: z
    .string()
    .default('human,agent,person,operator,humano,agente,persona,atendente,pessoa')
    .transform((value) =>
      value
        .split(',')
        .map((word) => word.trim())
        .filter((word) => word !== ''),
    ),
  /** Sent to the user, once, when the conversation is handed to a person. */
  HANDOFF_MESSAGE: z
    .string()
    .trim()
    .min(1)
    .default("Thanks! I've passed this conversation to a member of our team; they will reply here shortly."),
  /** A handed-off conversation with no operator message for this long goes back to the bot; 0 = never. */
  HANDOFF_IDLE_MINUTES: int(0, 60 * 24 * 365).default(60),
  /** Whole messages that opt the user out of everything we send (any case, accents and punctuation ignored). */
  OPT_OUT_KEYWORDS: keywordList(CONSENT_DEFAULTS.optOutKeywords),
  /** Whole messages that lift an opt-out (only while the user is opted out: "yes" is otherwise a message). */
  OPT_IN_KEYWORDS: keywordList(CONSENT_DEFAULTS.optInKeywords),
  /** Whole messages answered with HELP_MESSAGE. */
  HELP_KEYWORDS: keywordList(CONSENT_DEFAULTS.helpKeywords),
  OPT_OUT_MESSAGE: z.string().trim().min(1).default(CONSENT_DEFAULTS.optOutMessage),
  OPT_IN_MESSAGE: z.string().trim().min(1).default(CONSENT_DEFAULTS.optInMessage),
  HELP_MESSAGE: z.string().trim().min(1).default(CONSENT_DEFAULTS.helpMessage),
  // WhatsApp's 24-hour window (domain/window.ts)
  /**
   * Twilio Content SID of an approved template sent instead of a free-form message outside the window, and after
   * a 63016; unset: such a message is refused (`outside_window`).
   */
  WINDOW_TEMPLATE: optionalText.refine((v) => v === undefined || /^HX[0-9a-fA-F]{32}$/.test(v), {
    message: 'must be a Twilio Content SID: HX followed by 32 hex characters',
  }),
  /** The template's variables as a JSON object of strings, e.g. {"1":"there"}; sent as ContentVariables. */
  WINDOW_TEMPLATE_VARIABLES: templateVariables,
  /**
   * Meta's window template: the name of an approved template of the WhatsApp Business Account, its language
   * code, and its body parameters (numbered keys, in order, or named ones) as a JSON object of strings.
   */
  META_WINDOW_TEMPLATE: optionalText.refine((v) => v === undefined || /^[a-z0-9_]{1,512}$/.test(v), {
    message: "must be a Meta template's name: lowercase letters, digits and underscores",
  }),
  META_WINDOW_TEMPLATE_LANGUAGE: z
    .string()
    .trim()
    .regex(/^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$/, 'must be a language code such as en_US or pt_BR')
    .default('en_US'),
  META_WINDOW_TEMPLATE_VARIABLES: templateVariables,
  /** Accepted for compatibility with the original system's .env; RATE_LIMIT_MAX_REQUESTS is the one used. */
  RATE_LIMIT_MESSAGES_PER_MINUTE: int(1).optional(),

  // Worker
  WORKER_CONCURRENCY: int(1, 10_000).default(200),
  JOB_ATTEMPTS: int(1, 50).default(5),
  JOB_BACKOFF_MS: int(1, 600_000).default(2000),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 600).default(25),
  /** A worker holds each running job this long, renewed at half of it; a crashed worker's job reruns after it. */
  QUEUE_LOCK_DURATION_MS: int(1000, 600_000).default(30_000),
  /** How often workers look for jobs whose worker died (their lock expired) and put them back in the queue. */
  QUEUE_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000),
  /** A worker owns a conversation this long without renewing (renewed every third); a crashed one's expires. */
  CONVERSATION_LOCK_TTL_MS: int(1000, 600_000).default(30_000),

  // Scheduler
  STRANDED_AFTER_SECONDS: int(5).default(60),
  SWEEP_INTERVAL_SECONDS: int(1).default(30),
  WEBHOOK_LOG_RETENTION_DAYS: int(1).default(30),
  /**
   * Messages older than this many days are deleted, and conversations with nothing newer (media, deliveries,
   * model calls and notes with them); 0 keeps everything. The audit log is not covered (docs/operations.md).
   */
  RETENTION_DAYS: int(0, 36_500).default(0),

  // Logs
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_DIR: optionalText,
  /** Per-area levels over LOG_LEVEL, e.g. "http=warn,ai=debug" (areas: http, whatsapp, pipeline, ai, queue, db, redis). */
  LOG_LEVELS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const levels: Record<string, LogLevelName> = {};
      for (const entry of value
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const [area, level] = entry.split('=').map((part) => part.trim().toLowerCase());
        if (!area || !level || !(LOG_LEVEL_NAMES as readonly string[]).includes(level)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${entry}" must be area=level, level one of ${LOG_LEVEL_NAMES.join(', ')}`,
          });
          continue;
        }
        levels[area] = level as LogLevelName;
      }
      return levels;
    }),

  // Metrics: Prometheus text at GET /metrics
  METRICS_ENABLED: bool.default(true),
  /** When set, /metrics wants `Authorization: Bearer <token>`. */
  METRICS_TOKEN: optionalText,
  /**
   * In production /metrics needs METRICS_TOKEN, or this set to true to serve it without one (a scraper on a
   * private network); elsewhere it is open unless a token is set.
   */
  METRICS_PUBLIC: bool.default(false),
  /** Processes without the web role (worker, scheduler) serve /metrics and /health/ on this port when set. */
  METRICS_PORT: int(1, 65535).optional(),

  // Admin alerts for HIGH and CRITICAL errors (one per error type per hour): email and/or a chat webhook
  SMTP_HOST: optionalText,
  SMTP_PORT: int(1, 65535).default(587),
  /** TLS from the first byte (port 465); false means STARTTLS when the server offers it. */
  SMTP_SECURE: bool.optional(),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: optionalText,
  ALERT_EMAIL_FROM: optionalText,
  /** Comma-separated addresses. */
  ALERT_EMAIL_TO: optionalText,
  /** Slack-compatible incoming webhook (JSON with `text`). */
  ALERT_WEBHOOK_URL: url(['http:', 'https:']),

  // Media (voice notes, photos, documents): a directory, or any S3-compatible bucket when S3_BUCKET is set
  MEDIA_DIR: z.string().trim().min(1).default('./data/media'),
  /** WhatsApp's own cap is 16 MB for audio, video and images (100 MB for documents). */
  MEDIA_MAX_BYTES: int(1024, 100 * 1024 * 1024).default(16 * 1024 * 1024),
  S3_BUCKET: optionalText,
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  /** A non-AWS server (MinIO, Cloudflare R2, …); AWS's own endpoint when absent. */
  S3_ENDPOINT: url(['http:', 'https:']),
  /** Absent: the AWS SDK's default chain (environment, instance role, …). */
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  /** Default: path style when S3_ENDPOINT is set (what S3-compatible servers expect), host style on AWS. */
  S3_FORCE_PATH_STYLE: bool.optional(),
  /** Prepended to every object key, for a bucket shared by several deployments. */
  S3_PREFIX: z.string().trim().default(''),
  // Voice notes: an OpenAI-compatible POST /v1/audio/transcriptions; default the OpenAI(-compatible) provider's
  TRANSCRIPTION_MODEL: z.string().trim().min(1).default('whisper-1'),
  TRANSCRIPTION_BASE_URL: url(['http:', 'https:']),
  TRANSCRIPTION_API_KEY: optionalText,

  // Cost and spend caps (domain/prices.ts, config/cost.ts)
  /** The IANA time zone of "today": the daily spend caps and the daily cost figures. */
  TIMEZONE: z.string().trim().min(1).default('UTC'),
  /** A JSON file {"<model>": {"input": 0.15, "output": 0.6}} (USD per million tokens) over the default prices. */
  MODEL_PRICES_FILE: optionalText,
  /** A user's model spend per day (in TIMEZONE) after which they get a notice or the cheaper model; 0 = none. */
  SPEND_CAP_USER_DAILY_USD: num(0, 1_000_000).default(0),
  /** All model spend per day; alerts at 80 % and 100 %, and at 100 % everyone is capped like a user; 0 = none. */
  SPEND_CAP_DAILY_USD: num(0, 100_000_000).default(0),
  /** provider/model answering capped users instead of a notice (the environment's provider and keys). */
  SPEND_CAP_FALLBACK_MODEL: optionalText,
  // Voice answers (an AI configuration's voice_answers): an OpenAI-compatible POST /v1/audio/speech; default as above
  SPEECH_MODEL: z.string().trim().min(1).default('gpt-4o-mini-tts'),
  SPEECH_VOICE: z.string().trim().min(1).default('alloy'),
  SPEECH_BASE_URL: url(['http:', 'https:']),
  SPEECH_API_KEY: optionalText,
});

export type Env = z.infer<typeof envSchema>;
