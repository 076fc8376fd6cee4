import type { Config } from '../config/load.js';
import { createAiRuntime } from '../ai/runtime.js';
import { createSimulatorChannel, type SimulatorChannel } from '../channels/simulator/channel.js';
import { createNumberDirectory, type CachedNumberDirectory } from '../channels/number-directory.js';
import { createTwilioChannel } from '../channels/twilio/channel.js';
import { openDatabase, type Database } from '../db/connect.js';
import type { ChannelName } from '../domain/types.js';
import { createMemoryContextCache } from '../infra/memory/context-cache.js';
import { createMemoryLocks } from '../infra/memory/locks.js';
import { createMemoryQueue } from '../infra/memory/queue.js';
import { createMemoryRateLimiter } from '../infra/memory/rate-limiter.js';
import { createRedis, waitForRedis } from '../infra/redis/connect.js';
import { createRedisContextCache } from '../infra/redis/context-cache.js';
import { createRedisLocks } from '../infra/redis/locks.js';
import { createRedisQueue } from '../infra/redis/queue.js';
import { createRedisRateLimiter } from '../infra/redis/rate-limiter.js';
import {
  alertersFromConfig,
  configSecrets,
  hasAlertChannel,
  reporterFromConfig,
} from '../errors/from-config.js';
import { createHandoffNotifier } from '../errors/handoff-notifier.js';
import { createSpendAlerter } from '../errors/spend-alerter.js';
import { createChatModel } from '../ai/select.js';
import { createPricing } from '../pipeline/pricing.js';
import { observeSpend } from '../observability/spend.js';
import type { ErrorReporter } from '../errors/reporter.js';
import type { HealthCheck } from '../http/health.js';
import type { Logger } from '../log.js';
import {
  instrumentAiRuntime,
  instrumentChannels,
  instrumentChatModel,
  instrumentTranscriber,
} from '../observability/instrument.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { createUnqueuedRetry } from '../pipeline/unqueued-retry.js';
import { strandedMessagesReader } from '../observability/stranded-messages.js';
import { webhookLogWriter } from '../db/webhook-log-writer.js';
import { bootDatabase } from './database-boot.js';
import { createTranscriber } from '../ai/transcribe.js';
import { createSpeechSynthesizer } from '../ai/speech.js';
import { mediaLinksFrom } from '../security/media-url.js';
import { openMediaStore } from '../media/open.js';
import { composeMetaChannel } from './meta-channel.js';
import { fieldCipherFrom, requireFieldCipher } from '../security/field-encryption.js';
import type { Channel, ContextCache, JobQueue, Locks, RateLimiter } from '../ports.js';

export interface Composed {
  config: Config;
  database: Database;
  deps: PipelineDeps;
  healthChecks: Record<string, HealthCheck>;
  /** The local chat channel, when enabled (its web routes are registered by the web role). */
  simulator: SimulatorChannel | undefined;
  /** The business numbers (environment defaults and `business_numbers` rows) the channels answer on. */
  numbers: CachedNumberDirectory;
  /** One line per adapter choice, for the start banner. */
  describe: string[];
  /** This process's Prometheus registry and instruments (GET /metrics serves them). */
  metrics: Metrics;
  /** Logs errors by category and severity and alerts an administrator for HIGH and CRITICAL ones. */
  errors: ErrorReporter;
  /** The database answered and its migrations are applied (false while a PostgreSQL down at start is awaited). */
  databaseReady(): boolean;
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Apply pending migrations at start (under the advisory lock, so concurrent starts are safe). */
  migrate: boolean;
  /** The registry to record into; a new one per call otherwise. */
  metrics?: Metrics;
}

/**
 * The composition root: the one place that turns validated config into adapters. Everything it opens it also
 * closes, in reverse order.
 */
export async function compose(config: Config, log: Logger, options: ComposeOptions): Promise<Composed> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse())
      await closer().catch((error: unknown) => log.warn({ err: error }, 'close failed'));
  };
  try {
    const database = await openDatabase(config.database, log.child({ area: 'db' }));
    closers.push(() => database.close());

    const hot = await hotState(config, log);
    closers.push(() => hot.close());
    // Closed before the queue (closers run in reverse): no retry may start on a closing queue.
    const unqueued = createUnqueuedRetry({ queue: hot.queue, log: log.child({ area: 'pipeline' }) });
    closers.push(() => Promise.resolve(unqueued.close()));
    // The alert throttle is a Locks key, so all processes sharing Redis send one alert per error type per hour.
    // errors_total is counted by the metrics decorators, so the reporter does not count again.
    const errors = reporterFromConfig(config, log, hot.locks);
    const boot = await bootDatabase(database, {
      migrate: options.migrate,
      log: log.child({ area: 'db' }),
      errors,
    });
    closers.push(() => Promise.resolve(boot.stop()));

    const cipher = fieldCipherFrom(config.fieldEncryption);
    const numbers = createNumberDirectory({
      db: database.db,
      twilio: config.twilio,
      meta: config.meta,
      decrypt: (stored) =>
        (cipher ?? requireFieldCipher(config.fieldEncryption, 'read business number credentials')).decrypt(
          stored,
        ),
      refreshMs: config.aiConfigRefreshMs,
      log: log.child({ area: 'numbers' }),
    });
    const meta = await composeMetaChannel(
      config,
      numbers,
      { db: database.db, ready: boot.ready() },
      log.child({ area: 'whatsapp' }),
      errors,
    );
    // Before the channels: the simulator keeps its page's uploads there.
    const media = await openMediaStore(config.media.store);
    closers.push(() => Promise.resolve(media.close()));
    const channels = new Map<ChannelName, Channel>();
    channels.set('meta', meta.channel);
    if (config.twilio)
      channels.set('twilio', createTwilioChannel(config.twilio, log.child({ area: 'whatsapp' }), numbers));
    const simulator = config.simulator.enabled ? createSimulatorChannel({ media }) : undefined;
    if (simulator) channels.set('simulator', simulator);

    const appUrl = { ...(config.http.publicBaseUrl ? { appUrl: config.http.publicBaseUrl } : {}) };
    // The active AI configuration in the database overrides the environment's settings, without a restart.
    const ai = createAiRuntime({
      db: database.db,
      envSettings: config.ai,
      fallbackSettings: config.aiFallback,
      decrypt: (stored) =>
        (cipher ?? requireFieldCipher(config.fieldEncryption, 'read AI configuration keys')).decrypt(stored),
      appUrl: appUrl.appUrl,
      log: log.child({ area: 'ai' }),
      refreshMs: config.aiConfigRefreshMs,
    });
    const model = ai.environment.model;

    const auditLog = webhookLogWriter(database.db, {
      flushMs: config.http.webhookLogFlushMs,
      log: log.child({ area: 'db' }),
    });
    // After the database's closer in the list, so it runs before it: the last rows are flushed, then it closes.
    closers.push(() => auditLog.close());

    // Operators hear of a handoff through the alert channels; its throttle (one per conversation per 15 min) is a
    // Locks key like the alerts', so the web process and every worker share it.
    const notifyHandoff = createHandoffNotifier({
      alerters: alertersFromConfig(config.alerts),
      locks: hot.locks,
      log: log.child({ area: 'handoff' }),
      publicBaseUrl: config.http.publicBaseUrl,
      secrets: configSecrets(config),
    });

    // Operators hear of the day's spend at 80 % and 100 % of SPEND_CAP_DAILY_USD (claimed once a day in the database).
    const alertSpend = createSpendAlerter({
      alerters: alertersFromConfig(config.alerts),
      log: log.child({ area: 'cost' }),
      publicBaseUrl: config.http.publicBaseUrl,
      secrets: configSecrets(config),
    });

    const deps: PipelineDeps = {
      auditLog,
      media,
      transcriber: config.transcription ? createTranscriber(config.transcription) : null,
      speech: config.speech ? createSpeechSynthesizer(config.speech) : null,
      mediaLinks: mediaLinksFrom(config),
      report: (error, context, alerting) => void errors.report(error, { ...alerting, context }),
      notifyHandoff: (event) => void notifyHandoff(event),
      alertSpend: (alert) => void alertSpend(alert),
      db: database.db,
      queue: hot.queue,
      unqueued,
      locks: hot.locks,
      context: hot.context,
      limiter: hot.limiter,
      ai,
      numbers,
      channelFor: (name) => channels.get(name),
      log: log.child({ area: 'pipeline' }),
      settings: {
        maxHistory: config.conversation.maxHistory,
        sessionTimeoutMs: config.conversation.sessionTimeoutMs,
        burstWindowMs: config.conversation.burstWindowMs,
        burstMaxWaitMs: config.conversation.burstMaxWaitMs,
        rateLimitMax: config.conversation.rateLimitMax,
        rateLimitWindowSeconds: config.conversation.rateLimitWindowSeconds,
        maxMessageLength: config.conversation.maxMessageLength,
        conversationLockTtlMs: config.worker.conversationLockTtlMs,
        strandedAfterMs: config.scheduler.strandedAfterMs,
        statusCallbackUrl: config.http.publicBaseUrl
          ? `${config.http.publicBaseUrl}/api/whatsapp/status/`
          : undefined,
        alertsConfigured: hasAlertChannel(config.alerts),
        handoffKeywords: config.handoff.keywords,
        handoffMessage: config.handoff.message,
        handoffIdleMs: config.handoff.idleMs,
        consent: config.consent,
        windowTemplates: config.window.templates,
        mediaMaxBytes: config.media.maxBytes,
      },
    };
    // Measured from outside (decorators), so the use cases stay free of metrics.
    const metrics = options.metrics ?? createMetrics();
    deps.ai = instrumentAiRuntime(deps.ai, metrics);
    if (deps.transcriber) deps.transcriber = instrumentTranscriber(deps.transcriber, metrics);
    deps.channelFor = instrumentChannels((name) => channels.get(name), metrics);
    deps.pricing = createPricing({
      prices: config.cost.prices,
      timezone: config.cost.timezone,
      userDailyCapMicros: config.cost.userDailyCapMicros,
      dailyCapMicros: config.cost.dailyCapMicros,
      cheaperModel: config.spendCapFallback
        ? instrumentChatModel(createChatModel(config.spendCapFallback, { ...appUrl, log }), metrics)
        : null,
      log: log.child({ area: 'cost' }),
    });
    observeSpend(metrics, database.db, config.cost);
    metrics.observeQueue(() => hot.queue.stats());
    const stranded = strandedMessagesReader(database.db, { olderThanMs: config.scheduler.strandedAfterMs });
    metrics.observeStranded(stranded);
    const healthChecks: Record<string, HealthCheck> = {
      database: async () => {
        await database.ping();
        // Answering is not enough while the migrations it was waiting for have not run yet.
        if (!boot.ready()) throw new Error('the database answers; its migrations are not applied yet');
        return { driver: database.kind };
      },
      ...hot.healthChecks,
      // Only where Meta is in use (a number at start), so a Twilio-only deployment's health stays as it was.
      ...(meta.numbersAtStart.length > 0 ? { meta: meta.health } : {}),
      // Reported, never "down": messages waiting here mean no scheduler runs (or workers lag), not a dead process.
      stranded: async () => ({
        // Informational: a database that does not answer is reported by its own check, not twice (null here).
        messages: await Promise.race([
          stranded().catch(() => null),
          new Promise<null>((resolve) => setTimeout(resolve, 1500, null).unref()),
        ]),
        pendingLongerThanSeconds: config.scheduler.strandedAfterMs / 1000,
      }),
    };
    const describe = [
      `database: ${database.kind === 'postgres' ? 'PostgreSQL' : `PGlite (embedded, ${config.database.kind === 'pglite' ? config.database.dataDir : ''})`}`,
      `queue and hot state: ${config.redis.kind === 'redis' ? 'Redis' : 'in-process (for one process only)'}`,
      `channels: ${
        [
          config.twilio ? `Twilio (${config.twilio.whatsappNumber})` : '',
          meta.numbersAtStart.length > 0 ? `Meta (${meta.numbersAtStart.join(', ')})` : '',
          simulator ? 'simulator (/simulator/)' : '',
        ]
          .filter(Boolean)
          .join(', ') || 'none configured'
      }`,
      `AI: ${model.provider}${model.provider === 'offline' ? ' (no AI key set: automatic replies)' : ` ${model.model}`}`,
      `cost: prices from ${config.cost.pricesSource}; daily caps ${capText(config.cost.userDailyCapMicros)} per user, ` +
        `${capText(config.cost.dailyCapMicros)} in all (${config.cost.timezone})`,
    ];
    return {
      config,
      database,
      deps,
      healthChecks,
      simulator,
      numbers,
      describe,
      metrics,
      errors,
      databaseReady: () => boot.ready(),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const REDIS_BOOT_WAIT_MS = 5000;

function capText(micros: number): string {
  return micros > 0 ? `$${micros / 1_000_000}` : 'none';
}

interface HotState {
  queue: JobQueue;
  locks: Locks;
  context: ContextCache;
  limiter: RateLimiter;
  healthChecks: Record<string, HealthCheck>;
  close(): Promise<void>;
}

async function hotState(config: Config, log: Logger): Promise<HotState> {
  const ttlSeconds = Math.ceil(config.conversation.sessionTimeoutMs / 1000);
  const maxTurns = config.conversation.maxHistory;
  const queueOptions = {
    attempts: config.worker.attempts,
    backoffMs: config.worker.backoffMs,
    shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    log: log.child({ area: 'queue' }),
  };
  if (config.redis.kind === 'memory') {
    const queue = createMemoryQueue(queueOptions);
    return {
      queue,
      locks: createMemoryLocks(),
      context: createMemoryContextCache({ maxTurns, ttlSeconds }),
      limiter: createMemoryRateLimiter(),
      healthChecks: { queue: async () => ({ adapter: 'in-process', ...(await queue.stats()) }) },
      close: () => queue.close(),
    };
  }
  const prefix = config.keyPrefix;
  const redis = createRedis(config.redis.url, { purpose: 'commands', log: log.child({ area: 'redis' }) });
  // Redis down at boot must not stop the web role: it can still store messages, and the scheduler enqueues
  // them once Redis is back. So wait a little for the connection, then go on degraded (health says so).
  await waitForRedis(redis, REDIS_BOOT_WAIT_MS).catch((error: unknown) => {
    log.error(
      { err: error },
      'Redis is unreachable at start; continuing, messages are stored and queued later',
    );
  });
  const queue = createRedisQueue({ url: config.redis.url, prefix, ...queueOptions });
  return {
    queue,
    locks: createRedisLocks(redis, { prefix }),
    context: createRedisContextCache(redis, { prefix, maxTurns, ttlSeconds }),
    limiter: createRedisRateLimiter(redis, { prefix }),
    healthChecks: {
      redis: async () => {
        await redis.ping();
        return undefined;
      },
      queue: async () => ({ adapter: 'bullmq', ...(await queue.stats()) }),
    },
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}
