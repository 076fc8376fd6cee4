/**
 * The Prometheus metrics of one process: one registry (created by the composition root, so tests can run
 * several apps in one process), Node's default process metrics, and the application's own, all prefixed
 * `chatbot_`. Label values are bounded sets (route templates, statuses, kinds, configured model names) so the
 * number of series stays small whatever the traffic.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RetentionResult } from '../pipeline/retention.js';
import type { QueueStats } from '../ports.js';
import type { ErrorCategory, ErrorSeverity } from './errors.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const SECONDS_FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SECONDS_SLOW = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  readonly signatureFailures: Counter<'route'>;
  readonly queueJobs: Gauge<'state'>;
  /** outcome: done, later (busy conversation, rescheduled), retry (failed, will run again), failed (for good). */
  readonly jobDuration: Histogram<'outcome'>;
  /** outcome: ok, or the AppError kind of the failure. */
  readonly llmDuration: Histogram<'provider' | 'model' | 'outcome'>;
  /** direction: in (prompt) or out (completion). */
  readonly llmTokens: Counter<'provider' | 'model' | 'direction'>;
  /** status: sent (the channel took it), failed (transient, retried), rejected (permanent). */
  readonly sends: Counter<'channel' | 'status'>;
  readonly sendDuration: Histogram<'channel'>;
  readonly deliveryStatuses: Counter<'channel' | 'status'>;
  /** Inbound media downloads (issue #15); outcome: ok, a refusal (too_large, type_not_allowed, …) or failed. */
  readonly mediaDownloads: Counter<'channel' | 'outcome'>;
  /** Voice notes sent to transcription; outcome: ok, or the AppError kind of the failure. */
  readonly transcriptions: Counter<'model' | 'outcome'>;
  /** Seconds of audio transcribed (what the provider billed, else the file's own length, else an estimate). */
  readonly transcriptionSeconds: Counter<'model'>;
  readonly errors: Counter<'category' | 'severity'>;
  /** For any part of the application (the error handler, alerts) that wants an error counted. */
  recordError(category: ErrorCategory, severity: ErrorSeverity): void;
  /** Where the queue depth comes from at each scrape (the JobQueue's stats). */
  observeQueue(stats: () => Promise<QueueStats>): void;
  /** Accepted messages pending longer than STRANDED_AFTER_SECONDS, read at each scrape. */
  readonly strandedMessages: Gauge;
  /** Where that count comes from at each scrape. */
  observeStranded(count: () => Promise<number>): void;
  /** Rows (and media files) RETENTION_DAYS deleted, by table. */
  readonly retentionDeleted: Counter<'table'>;
  /** Count one sweep round's retention deletes. */
  recordRetention(result: RetentionResult): void;
}

/** The label each retention count is recorded under: the table's name (`media` for stored files). */
const RETENTION_TABLES: Record<keyof RetentionResult, string> = {
  messages: 'messages',
  modelCalls: 'model_calls',
  notes: 'conversation_notes',
  conversations: 'conversations',
  mediaFiles: 'media',
};

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag, GC); off for short-lived tools. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let queueStats: (() => Promise<QueueStats>) | undefined;
  let strandedCount: (() => Promise<number>) | undefined;

  const errors = new Counter({
    name: 'chatbot_errors_total',
    help: 'Errors by category (WEBHOOK, AI, DATABASE, WHATSAPP, SYSTEM, CONFIGURATION) and severity',
    labelNames: ['category', 'severity'] as const,
    registers,
  });

  const retentionDeleted = new Counter({
    name: 'chatbot_retention_deleted_total',
    help: 'Rows deleted by RETENTION_DAYS, by table (media: stored media files)',
    labelNames: ['table'] as const,
    registers,
  });
  // Every table's series exists from the start at 0, so a rate() over it has a baseline.
  for (const table of Object.values(RETENTION_TABLES)) retentionDeleted.inc({ table }, 0);

  return {
    registry,
    httpRequests: new Counter({
      name: 'chatbot_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'chatbot_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template',
      labelNames: ['route', 'method'] as const,
      buckets: SECONDS_FAST,
      registers,
    }),
    signatureFailures: new Counter({
      name: 'chatbot_webhook_signature_failures_total',
      help: 'Webhook requests refused because the provider signature was missing or wrong',
      labelNames: ['route'] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'chatbot_queue_jobs',
      help: 'Conversation jobs in the queue by state (waiting, active, delayed, failed), read at scrape time',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        if (!queueStats) return;
        try {
          const stats = await queueStats();
          for (const state of QUEUE_STATES) this.set({ state }, stats[state]);
        } catch {
          // Queue unreachable: no stale figures; the health endpoint and the error counters say why.
          this.reset();
        }
      },
    }),
    jobDuration: new Histogram({
      name: 'chatbot_job_duration_seconds',
      help: 'Time a worker spent on one conversation job, by outcome',
      labelNames: ['outcome'] as const,
      buckets: SECONDS_SLOW,
      registers,
    }),
    llmDuration: new Histogram({
      name: 'chatbot_llm_request_duration_seconds',
      help: 'LLM call latency by provider, model and outcome',
      labelNames: ['provider', 'model', 'outcome'] as const,
      buckets: SECONDS_SLOW,
      registers,
    }),
    llmTokens: new Counter({
      name: 'chatbot_llm_tokens_total',
      help: 'Tokens sent to (in) and received from (out) the LLM, as the provider reported them',
      labelNames: ['provider', 'model', 'direction'] as const,
      registers,
    }),
    sends: new Counter({
      name: 'chatbot_messages_sent_total',
      help: 'Outbound message parts by channel and result (sent, failed = transient, rejected = permanent)',
      labelNames: ['channel', 'status'] as const,
      registers,
    }),
    sendDuration: new Histogram({
      name: 'chatbot_send_duration_seconds',
      help: 'Time the channel API took to take one outbound part',
      labelNames: ['channel'] as const,
      buckets: SECONDS_FAST,
      registers,
    }),
    deliveryStatuses: new Counter({
      name: 'chatbot_delivery_status_total',
      help: 'Delivery status callbacks received, by channel and status (sent, delivered, read, failed, …)',
      labelNames: ['channel', 'status'] as const,
      registers,
    }),
    mediaDownloads: new Counter({
      name: 'chatbot_media_downloads_total',
      help: 'Inbound media downloads by channel and outcome (ok, too_large, type_not_allowed, foreign_host, gone, failed)',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    }),
    transcriptions: new Counter({
      name: 'chatbot_transcriptions_total',
      help: 'Voice notes and audio sent to transcription, by model and outcome (ok, or the error kind)',
      labelNames: ['model', 'outcome'] as const,
      registers,
    }),
    transcriptionSeconds: new Counter({
      name: 'chatbot_transcription_seconds_total',
      help:
        'Seconds of audio transcribed, by model: as the provider billed it (whisper-1), else measured from the ' +
        'Ogg file, else estimated from its size',
      labelNames: ['model'] as const,
      registers,
    }),
    errors,
    recordError(category, severity) {
      errors.inc({ category, severity });
    },
    observeQueue(stats) {
      queueStats = stats;
    },
    strandedMessages: new Gauge({
      name: 'chatbot_stranded_messages',
      help:
        'Accepted inbound messages still pending after STRANDED_AFTER_SECONDS (the scheduler not running, or ' +
        'workers far behind); the same database-wide figure from every process, read at scrape time',
      registers,
      async collect() {
        if (!strandedCount) return;
        try {
          this.set(await strandedCount());
        } catch {
          // Database unreachable: no stale figure; the health endpoint and the error counters say why.
          this.reset();
        }
      },
    }),
    observeStranded(count) {
      strandedCount = count;
    },
    retentionDeleted,
    recordRetention(result) {
      for (const [key, table] of Object.entries(RETENTION_TABLES)) {
        const count = result[key as keyof RetentionResult];
        if (count > 0) retentionDeleted.inc({ table }, count);
      }
    },
  };
}
