import type { ChannelName } from '../domain/types.js';
import type { TemplateContent } from '../domain/window.js';
import { windowTemplates } from './window-templates.js';
import {
  metaSettings,
  twilioSettings,
  type GraphApiSettings,
  type MetaSettings,
  type TwilioSettings,
} from './channels.js';
import type { TranscriptionSettings } from '../ai/transcribe.js';
import type { SpeechSettings } from '../ai/speech.js';
import { databaseSettings, redisSettings } from './stores.js';
import { costSettings, type CostSettings } from './cost.js';
import { mediaSettings, speechSettings, transcriptionSettings, type MediaSettings } from './media.js';
import { envSchema, type Env } from './schema.js';
import type { ConsentSettings } from '../domain/opt-out.js';

export type AiProviderName = 'openrouter' | 'openai' | 'anthropic' | 'openai-compatible' | 'offline';

export interface AiSettings {
  provider: AiProviderName;
  apiKey: string | undefined;
  model: string;
  baseUrl: string | undefined;
  timeoutMs: number;
  temperature: number;
  maxTokens: number;
  systemPrompt: string;
  /**
   * The model sees images: AI_VISION (AI_FALLBACK_VISION for the fallback) or an AI configuration's `vision`;
   * undefined: the table of well-known vision models decides (ai/vision-models.ts).
   */
  vision?: boolean | undefined;
}

export type { GraphApiSettings, MetaSettings, TwilioSettings } from './channels.js';

export interface EmailAlertSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | undefined;
  password: string | undefined;
  from: string;
  to: string[];
}

export interface Config {
  env: Env['NODE_ENV'];
  http: {
    port: number;
    host: string;
    /** Public URL prefix the channel calls, without a trailing slash; rebuilds the signed URL behind proxies. */
    publicBaseUrl: string | undefined;
    trustProxy: boolean;
    bodyLimitBytes: number;
    /** Webhook audit rows are written in batches this often (0: each at once, still off the request path). */
    webhookLogFlushMs: number;
    /** Per client IP on the public endpoints; max 0 means off. */
    ipRateLimit: { max: number; windowSeconds: number };
  };
  database: { kind: 'postgres'; url: string; poolSize: number } | { kind: 'pglite'; dataDir: string };
  autoMigrate: boolean;
  redis: { kind: 'redis'; url: string } | { kind: 'memory' };
  keyPrefix: string;
  twilio: TwilioSettings | null;
  meta: MetaSettings | null;
  graphApi: GraphApiSettings;
  skipWebhookSignature: boolean;
  /** The local web chat at /simulator/, a channel that goes through the same pipeline as Twilio. */
  simulator: { enabled: boolean };
  ai: AiSettings;
  /** Keys for secrets stored in the database (AI configuration API keys); each absent when not set. */
  fieldEncryption: { key: string | undefined; previousKey: string | undefined };
  /** PSEUDONYM_KEY: the data-rights pseudonyms' own key (security/pseudonym.ts); undefined when not set. */
  pseudonymKey: string | undefined;
  /** How often running workers re-read the active AI configuration. */
  aiConfigRefreshMs: number;
  /** The admin web UI; sessionSecret undefined means derive one from the other secrets (admin/settings.ts). */
  admin: { enabled: boolean; sessionSecret: string | undefined; sessionTtlMs: number };
  /** A second model tried when the first fails; null when AI_FALLBACK_MODEL is not set. */
  aiFallback: AiSettings | null;
  conversation: {
    maxHistory: number;
    sessionTimeoutMs: number;
    rateLimitMax: number;
    rateLimitWindowSeconds: number;
    burstWindowMs: number;
    burstMaxWaitMs: number;
    maxMessageLength: number;
  };
  /** OPT_OUT_KEYWORDS, OPT_IN_KEYWORDS, HELP_KEYWORDS and their confirmations. */
  consent: ConsentSettings;
  handoff: {
    keywords: string[];
    message: string;
    /** 0: a handed-off conversation stays with the humans until one hands it back. */
    idleMs: number;
  };
  /**
   * WhatsApp's 24-hour window: the template each channel sends in place of a free-form message outside it (and
   * after a provider's "outside the window" failure); a channel without one refuses such messages.
   */
  window: { templates: Partial<Record<ChannelName, TemplateContent>> };
  /** Media: where they are stored (MEDIA_DIR or an S3 bucket) and the largest accepted. */
  media: MediaSettings;
  /** Voice-note transcription; null when no endpoint serves it. */
  transcription: TranscriptionSettings | null;
  /** Prices, TIMEZONE and the daily spend caps (config/cost.ts). */
  cost: CostSettings;
  /** SPEND_CAP_FALLBACK_MODEL: answers a capped user instead of a notice; null: capped users get the notice. */
  spendCapFallback: AiSettings | null;
  /** Voice answers' speech; null when no endpoint serves it (voice answers are then skipped, with a log line). */
  speech: SpeechSettings | null;
  worker: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    shutdownTimeoutMs: number;
    /** BullMQ job lock and stalled-job check: how soon a crashed worker's job runs again. */
    lockDurationMs: number;
    stalledIntervalMs: number;
    /** How long a worker owns a conversation without renewing; a crashed worker's ownership expires after it. */
    conversationLockTtlMs: number;
  };
  scheduler: {
    strandedAfterMs: number;
    sweepIntervalMs: number;
    webhookLogRetentionDays: number;
    /** RETENTION_DAYS: conversations and messages older than this are deleted; 0 keeps them. */
    retentionDays: number;
  };
  log: { level: Env['LOG_LEVEL']; dir: string | undefined; areaLevels: Env['LOG_LEVELS'] };
  /** `public`: served without a token (no METRICS_TOKEN, and METRICS_PUBLIC=true or not in production). */
  metrics: { enabled: boolean; token: string | undefined; port: number | undefined; public: boolean };
  /** Where HIGH and CRITICAL errors are reported; both optional. */
  alerts: { email: EmailAlertSettings | null; webhookUrl: string | undefined };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A setting worth a word at start; `roles`: only the processes that use it say it (absent: every process). */
export interface ConfigWarning {
  text: string;
  roles?: ReadonlyArray<'web' | 'worker' | 'scheduler'>;
}

export type Validation =
  { ok: true; config: Config; warnings: ConfigWarning[] } | { ok: false; problems: string[] };

/** The warnings a process running these roles should log. */
export function warningsFor(warnings: ConfigWarning[], roles: readonly string[]): string[] {
  return warnings
    .filter((w) => w.roles === undefined || w.roles.some((role) => roles.includes(role)))
    .map((w) => w.text);
}

/** Check the environment and report every problem at once (never a secret's value). */
export function validate(environment: Record<string, string | undefined>): Validation {
  // An empty variable means "not set", as in the original system's python-decouple.
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''),
  );
  const problems: string[] = [];
  let parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
    // Every problem at once: check how the other settings fit together as if the bad values were not set
    // (their defaults), so a typo in PORT does not hide a missing TWILIO_AUTH_TOKEN until the next try.
    const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
    parsed = envSchema.safeParse(
      Object.fromEntries(Object.entries(present).filter(([key]) => !bad.has(key))),
    );
    if (!parsed.success) return { ok: false, problems };
    const more: string[] = [];
    build(parsed.data, more, []);
    // A variable already reported as malformed is not reported again as missing.
    problems.push(...more.filter((problem) => !bad.has(problem.split(':')[0] ?? '')));
    return { ok: false, problems };
  }
  const warnings: ConfigWarning[] = [];
  const config = build(parsed.data, problems, warnings);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config, warnings };
}

export function loadConfig(environment: Record<string, string | undefined>): Config {
  const result = validate(environment);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

function build(env: Env, problems: string[], warnings: ConfigWarning[]): Config {
  if (env.SKIP_WEBHOOK_SIGNATURE_VERIFICATION && env.NODE_ENV === 'production') {
    problems.push(
      'SKIP_WEBHOOK_SIGNATURE_VERIFICATION: refused when NODE_ENV=production (anyone could post as any user)',
    );
  } else if (env.SKIP_WEBHOOK_SIGNATURE_VERIFICATION) {
    warnings.push({
      text: 'SKIP_WEBHOOK_SIGNATURE_VERIFICATION=true: webhook signatures are NOT checked. Never do this in production.',
      roles: ['web'],
    });
  }
  if (!env.PSEUDONYM_KEY && !env.FIELD_ENCRYPTION_KEY && env.NODE_ENV === 'production')
    // Pseudonyms are made where data is exported or erased: the web role's admin and API (and the CLI).
    warnings.push({
      text: 'PSEUDONYM_KEY and FIELD_ENCRYPTION_KEY unset: pseudonyms follow secrets that rotate.',
      roles: ['web'],
    });
  if (env.ADMIN_ENABLED && !env.ADMIN_SESSION_SECRET && env.NODE_ENV === 'production') {
    warnings.push({
      text: 'ADMIN_SESSION_SECRET is not set: the admin cookie is signed with a key derived from other secrets.',
      roles: ['web'],
    });
  }
  const ai = aiSettings(env, problems);
  return {
    env: env.NODE_ENV,
    http: {
      port: env.PORT,
      host: env.HOST,
      publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      trustProxy: env.TRUST_PROXY,
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
      webhookLogFlushMs: env.WEBHOOK_LOG_FLUSH_MS,
      ipRateLimit: { max: env.IP_RATE_LIMIT_MAX, windowSeconds: env.IP_RATE_LIMIT_WINDOW_SECONDS },
    },
    database: databaseSettings(env),
    autoMigrate: env.AUTO_MIGRATE,
    redis: redisSettings(env, problems),
    keyPrefix: env.REDIS_KEY_PREFIX,
    twilio: twilioSettings(env, problems),
    meta: metaSettings(env, problems),
    graphApi: {
      baseUrl: (env.META_GRAPH_API_BASE_URL ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
      version: env.META_GRAPH_API_VERSION,
    },
    skipWebhookSignature: env.SKIP_WEBHOOK_SIGNATURE_VERIFICATION,
    simulator: { enabled: simulatorEnabled(env, warnings) },
    ai,
    fieldEncryption: { key: env.FIELD_ENCRYPTION_KEY, previousKey: env.FIELD_ENCRYPTION_KEY_PREVIOUS },
    pseudonymKey: env.PSEUDONYM_KEY,
    aiConfigRefreshMs: Math.round(env.AI_CONFIG_REFRESH_SECONDS * 1000),
    admin: {
      enabled: env.ADMIN_ENABLED,
      sessionSecret: env.ADMIN_SESSION_SECRET,
      sessionTtlMs: Math.round(env.ADMIN_SESSION_HOURS * 3_600_000),
    },
    aiFallback: env.AI_FALLBACK_MODEL
      ? aiSettings(
          {
            ...env,
            AI_MODEL: env.AI_FALLBACK_MODEL,
            OPENAI_MODEL: undefined,
            AI_PROVIDER: env.AI_FALLBACK_PROVIDER ?? env.AI_PROVIDER,
            AI_VISION: env.AI_FALLBACK_VISION,
          },
          problems,
        )
      : null,
    conversation: {
      maxHistory: env.MAX_CONVERSATION_HISTORY,
      sessionTimeoutMs: env.SESSION_TIMEOUT_MINUTES * 60_000,
      rateLimitMax: env.RATE_LIMIT_MAX_REQUESTS,
      rateLimitWindowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      burstWindowMs: env.BURST_WINDOW_MS,
      burstMaxWaitMs: Math.max(env.BURST_MAX_WAIT_MS, env.BURST_WINDOW_MS),
      maxMessageLength: env.MAX_MESSAGE_LENGTH,
    },
    consent: {
      optOutKeywords: env.OPT_OUT_KEYWORDS,
      optInKeywords: env.OPT_IN_KEYWORDS,
      helpKeywords: env.HELP_KEYWORDS,
      optOutMessage: env.OPT_OUT_MESSAGE,
      optInMessage: env.OPT_IN_MESSAGE,
      helpMessage: env.HELP_MESSAGE,
    },
    handoff: {
      keywords: env.HANDOFF_KEYWORDS,
      message: env.HANDOFF_MESSAGE,
      idleMs: env.HANDOFF_IDLE_MINUTES * 60_000,
    },
    window: { templates: windowTemplates(env, problems) },
    media: mediaSettings(env, problems),
    transcription: transcriptionSettings(env, ai),
    cost: costSettings(env, problems),
    spendCapFallback: env.SPEND_CAP_FALLBACK_MODEL
      ? aiSettings({ ...env, AI_MODEL: env.SPEND_CAP_FALLBACK_MODEL, OPENAI_MODEL: undefined }, problems)
      : null,
    speech: speechSettings(env, ai),
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      attempts: env.JOB_ATTEMPTS,
      backoffMs: env.JOB_BACKOFF_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000,
      lockDurationMs: env.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: env.QUEUE_STALLED_INTERVAL_MS,
      conversationLockTtlMs: env.CONVERSATION_LOCK_TTL_MS,
    },
    scheduler: {
      strandedAfterMs: env.STRANDED_AFTER_SECONDS * 1000,
      sweepIntervalMs: env.SWEEP_INTERVAL_SECONDS * 1000,
      webhookLogRetentionDays: env.WEBHOOK_LOG_RETENTION_DAYS,
      retentionDays: env.RETENTION_DAYS,
    },
    log: { level: env.LOG_LEVEL, dir: env.LOG_DIR, areaLevels: env.LOG_LEVELS },
    metrics: metricsSettings(env, warnings),
    alerts: { email: emailAlertSettings(env, problems), webhookUrl: env.ALERT_WEBHOOK_URL },
  };
}

function emailAlertSettings(env: Env, problems: string[]): EmailAlertSettings | null {
  const to = (env.ALERT_EMAIL_TO ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  if (!env.SMTP_HOST) {
    if (to.length > 0) problems.push('ALERT_EMAIL_TO: set SMTP_HOST too, or alerts cannot be emailed');
    return null;
  }
  if (to.length === 0)
    problems.push('ALERT_EMAIL_TO: required when SMTP_HOST is set (where alerts are emailed)');
  const from = env.ALERT_EMAIL_FROM ?? (env.SMTP_USER?.includes('@') ? env.SMTP_USER : undefined);
  if (!from)
    problems.push('ALERT_EMAIL_FROM: required when SMTP_HOST is set and SMTP_USER is not an address');
  for (const address of from ? [from, ...to] : to) {
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address.replace(/^.*<(.+)>$/, '$1'))) {
      problems.push(`ALERT_EMAIL_FROM/ALERT_EMAIL_TO: "${address}" is not an email address`);
    }
  }
  return {
    host: env.SMTP_HOST,
    port: env.SMTP_PORT,
    secure: env.SMTP_SECURE ?? env.SMTP_PORT === 465,
    user: env.SMTP_USER,
    password: env.SMTP_PASSWORD,
    from: from ?? '',
    to,
  };
}

/**
 * /metrics tells anyone who reads it the traffic, the error rates and the queue: in production it wants a token,
 * or an explicit METRICS_PUBLIC=true. Without either it answers 403 with the fix, and the start says so once.
 */
function metricsSettings(env: Env, warnings: ConfigWarning[]): Config['metrics'] {
  const open = !env.METRICS_TOKEN && (env.METRICS_PUBLIC || env.NODE_ENV !== 'production');
  if (env.METRICS_ENABLED && !env.METRICS_TOKEN && !open)
    warnings.push({
      text: '/metrics is refused (403): in production set METRICS_TOKEN (scrapes send it as a bearer token), or METRICS_PUBLIC=true to serve it without one.',
      // The web role serves /metrics; the others only on METRICS_PORT.
      roles: env.METRICS_PORT === undefined ? ['web'] : ['web', 'worker', 'scheduler'],
    });
  return { enabled: env.METRICS_ENABLED, token: env.METRICS_TOKEN, port: env.METRICS_PORT, public: open };
}

/** Never reachable in production by accident: there it needs an explicit SIMULATOR_ENABLED=true. */
function simulatorEnabled(env: Env, warnings: ConfigWarning[]): boolean {
  const channelConfigured = Boolean(
    env.TWILIO_ACCOUNT_SID ??
    env.TWILIO_AUTH_TOKEN ??
    env.TWILIO_WHATSAPP_NUMBER ??
    env.META_ACCESS_TOKEN ??
    env.META_PHONE_NUMBER_ID,
  );
  const enabled = env.SIMULATOR_ENABLED ?? (!channelConfigured && env.NODE_ENV !== 'production');
  if (enabled && env.NODE_ENV === 'production') {
    warnings.push({
      text: 'SIMULATOR_ENABLED=true in production: anyone who can reach /simulator/ can talk to the bot.',
      roles: ['web'],
    });
  }
  return enabled;
}

const DEFAULT_BASE_URL: Partial<Record<AiProviderName, string>> = {
  openrouter: 'https://openrouter.ai/api/v1',
};

/** Key priority as in the original system: OpenRouter, then OpenAI; then Anthropic; then offline. */
function aiSettings(env: Env, problems: string[]): AiSettings {
  const provider: AiProviderName =
    env.AI_PROVIDER ??
    (env.OPENROUTER_API_KEY
      ? 'openrouter'
      : env.OPENAI_API_KEY
        ? 'openai'
        : env.ANTHROPIC_API_KEY
          ? 'anthropic'
          : env.AI_BASE_URL
            ? 'openai-compatible'
            : 'offline');
  const apiKey = {
    openrouter: env.OPENROUTER_API_KEY,
    openai: env.OPENAI_API_KEY,
    anthropic: env.ANTHROPIC_API_KEY,
    'openai-compatible': env.OPENAI_API_KEY ?? env.OPENROUTER_API_KEY,
    offline: undefined,
  }[provider];
  const keyVariable = {
    openrouter: 'OPENROUTER_API_KEY',
    openai: 'OPENAI_API_KEY',
    anthropic: 'ANTHROPIC_API_KEY',
  };
  if (provider in keyVariable && !apiKey) {
    problems.push(
      `${keyVariable[provider as keyof typeof keyVariable]}: required when AI_PROVIDER=${provider}`,
    );
  }
  if (provider === 'openai-compatible' && !env.AI_BASE_URL) {
    problems.push('AI_BASE_URL: required when AI_PROVIDER=openai-compatible');
  }
  const model = modelFor(provider, env);
  if (provider === 'anthropic' && model.includes('/')) {
    problems.push(
      'AI_MODEL: must name an Anthropic model for the anthropic provider, e.g. anthropic/claude-sonnet-4-6',
    );
  }
  return {
    provider,
    apiKey,
    model,
    baseUrl: env.AI_BASE_URL ?? DEFAULT_BASE_URL[provider],
    timeoutMs: Math.round(env.AI_TIMEOUT_SECONDS * 1000),
    temperature: env.AI_TEMPERATURE,
    maxTokens: env.AI_MAX_TOKENS,
    systemPrompt: env.SYSTEM_PROMPT,
    ...(env.AI_VISION === undefined ? {} : { vision: env.AI_VISION }),
  };
}

/** AI_MODEL is provider/model (OpenRouter's form); a direct provider takes the part after its own prefix. */
function modelFor(provider: AiProviderName, env: Env): string {
  switch (provider) {
    case 'openai':
      return env.OPENAI_MODEL ?? env.AI_MODEL.replace(/^openai\//, '');
    case 'anthropic':
      return env.AI_MODEL.replace(/^anthropic\//, '');
    case 'openrouter':
    case 'openai-compatible':
    case 'offline':
      return env.AI_MODEL;
  }
}
