import type { Db } from '../db/connect.js';
import type { WebhookLogWriter } from '../db/webhook-log-writer.js';
import type { ReportInfo } from '../errors/reporter.js';
import type { ConsentSettings } from '../domain/opt-out.js';
import type { HandoffEvent } from '../domain/handoff-notice.js';
import type { ChannelName } from '../domain/types.js';
import type { TemplateContent } from '../domain/window.js';
import type { Logger } from '../log.js';
import type { MediaStore } from '../media/store.js';
import type {
  AiRuntime,
  Channel,
  ContextCache,
  JobQueue,
  Locks,
  NumberDirectory,
  MediaLinks,
  RateLimiter,
  SpeechSynthesizer,
  Transcriber,
} from '../ports.js';
import type { UnqueuedRetry } from './unqueued-retry.js';
import type { Pricing } from './pricing.js';
import type { SpendAlert } from './spend-cap.js';

/** Everything the use cases may use; each takes only the part it needs (Pick<PipelineDeps, …>). */
export interface PipelineDeps {
  db: Db;
  queue: JobQueue;
  locks: Locks;
  context: ContextCache;
  limiter: RateLimiter;
  ai: AiRuntime;
  /** Our business numbers: which ones we answer on, each one's persona and credentials. */
  numbers: NumberDirectory;
  channelFor(name: ChannelName): Channel | undefined;
  log: Logger;
  /** Messages stored while the queue was down, enqueued again by this process once it is back. */
  unqueued: UnqueuedRetry;
  /** Where downloaded and generated media are kept (MEDIA_DIR or S3_*). */
  media: MediaStore;
  /** Voice notes to text; null when no endpoint transcribes (the user is told so). */
  transcriber: Transcriber | null;
  /** Voice answers' speech; null or absent when no endpoint speaks (voice answers are skipped). */
  speech?: SpeechSynthesizer | null;
  /** Signed URLs of stored media for the providers to fetch (voice answers). Absent: none can be made. */
  mediaLinks?: MediaLinks;
  /** The webhook audit log, written in batches off the request path. */
  auditLog: WebhookLogWriter;
  settings: PipelineSettings;
  /**
   * The error handler (category, severity, throttled admin alert) for failures that end a piece of work: an AI
   * call given up on, a reply the channel refused, a job out of attempts. `alerting` says the work was given up
   * on (a transient AI failure then pages) and what else tells alerts apart (the model). Absent in tests that do
   * not need it.
   */
  report?: (
    error: unknown,
    context: Record<string, unknown>,
    alerting?: Pick<ReportInfo, 'givenUp' | 'scope'>,
  ) => void;
  /**
   * Tell the operators that a conversation was handed to a human (email, webhook; throttled per conversation).
   * Fire and forget: it never throws, and the handoff does not wait for a mail server. Absent: nobody is told.
   */
  notifyHandoff?: (event: HandoffEvent) => void;
  /** Prices every model call and holds the daily spend caps (pipeline/pricing.ts); absent: nothing is priced. */
  pricing?: Pricing;
  /** Tell the operators that today's spend crossed 80 or 100 % of SPEND_CAP_DAILY_USD. Fire and forget. */
  alertSpend?: (alert: SpendAlert) => void;
}

export interface PipelineSettings {
  maxHistory: number;
  sessionTimeoutMs: number;
  /** Messages within this window are answered together; 0 answers each at once. */
  burstWindowMs: number;
  burstMaxWaitMs: number;
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
  maxMessageLength: number;
  /** How long a worker owns a conversation without renewing; after a crash, another worker waits this long at most. */
  conversationLockTtlMs: number;
  /**
   * A run that finds a message pending for longer than this is a recovery run (after a crash, a stall, a lost
   * job); each one is counted on the message, and after MAX_RECOVERY_RUNS it fails for good.
   */
  strandedAfterMs: number;
  /** Where channels post delivery callbacks; absent when we have no public URL. */
  statusCallbackUrl: string | undefined;
  /** An alert channel (email or webhook) is configured, so a user may be told that the team was notified. */
  alertsConfigured: boolean;
  /** Words that hand the conversation to a person (HANDOFF_KEYWORDS). */
  handoffKeywords: string[];
  /** Told to the user once per handoff (HANDOFF_MESSAGE). */
  handoffMessage: string;
  /** A handed-off conversation without an operator message for this long returns to the bot; 0 = never. */
  handoffIdleMs: number;
  /** OPT_OUT_KEYWORDS, OPT_IN_KEYWORDS, HELP_KEYWORDS and the messages that confirm them. */
  consent: ConsentSettings;
  /**
   * Per channel, the template sent in place of a free-form message outside WhatsApp's 24-hour window and after a
   * provider's window failure (WINDOW_TEMPLATE); a channel without one refuses such messages (`outside_window`).
   */
  windowTemplates: Partial<Record<ChannelName, TemplateContent>>;
  /** MEDIA_MAX_BYTES: larger inbound files are refused with a sentence to the user. */
  mediaMaxBytes: number;
}
