/**
 * Every interface the pipeline depends on, on one screen. Each has a production adapter (Redis, Twilio, a
 * real LLM) and a zero-setup twin (in-process, simulator, offline); the composition root (main/compose.ts)
 * picks them from config. The database is not a port: both drivers run the same Drizzle code (db/connect.ts).
 */
import type { MediaItem, OutboundContent } from './domain/content.js';
import type { ModelPrice } from './domain/prices.js';
import type {
  ChannelName,
  ChatMessage,
  DeliveryStatus,
  TokenUsage,
  ToolCall,
  ToolDefinition,
  Turn,
} from './domain/types.js';

// ── queue ────────────────────────────────────────────────────────────────────────────────────────────────

/** A request to process a conversation's pending inbound messages. The database holds the truth. */
export interface ConversationJob {
  conversationId: string;
  /** The inbound message that caused the job; used as the job id so a re-enqueue is a no-op. */
  messageId: string;
  /** Request id of the webhook that accepted the message, carried into the worker's logs. */
  requestId?: string;
}

export interface JobContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Fired when the process shuts down: stop starting new work (a model call, a send) and let the job retry. */
  signal?: AbortSignal;
}

/**
 * `done`: finished. `later`: could not run now (e.g. another worker holds the conversation); run again after
 * `delayMs` without counting an attempt. Throwing an AppError with retryable=false fails the job for good;
 * any other throw is retried with exponential backoff until maxAttempts.
 */
export type JobOutcome = { kind: 'done' } | { kind: 'later'; delayMs: number };

export type JobHandler = (job: ConversationJob, context: JobContext) => Promise<JobOutcome>;

export interface QueueStats {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface EnqueueOptions {
  delayMs?: number;
  /**
   * The message was stored a moment ago, so no job of its id can exist yet, finished or not: the adapter may
   * skip looking for one (a Redis round trip on every webhook).
   */
  fresh?: boolean;
}

export interface JobQueue {
  /** Add a job; a job with the same messageId that is still waiting, delayed or active is not added twice. */
  enqueue(job: ConversationJob, options?: EnqueueOptions): Promise<void>;
  /** Start consuming with at most `concurrency` handlers in flight. Call once per process. */
  consume(handler: JobHandler, options: { concurrency: number }): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Stop taking jobs, wait for running handlers (up to a bound), close connections. */
  close(): Promise<void>;
}

// ── hot state ────────────────────────────────────────────────────────────────────────────────────────────

/** Recent turns of a conversation's session: a sliding window of maxTurns that expires after ttlSeconds idle. */
export interface ContextCache {
  /** Cached turns oldest first, or null on a miss (expired, evicted, never cached). */
  get(conversationId: string): Promise<Turn[] | null>;
  /** Add turns (replacing entries with the same id), keep the newest maxTurns, refresh the TTL. */
  append(conversationId: string, turns: Turn[]): Promise<void>;
  /** Forget the conversation's context (admin reset, session end). */
  clear(conversationId: string): Promise<void>;
}

export interface Lease {
  /** Push the expiry out; false if the lease was lost (expired and taken by someone else). */
  extend(ttlMs: number): Promise<boolean>;
  /** Release if still ours; never releases someone else's lease. */
  release(): Promise<void>;
}

export interface Locks {
  /** Take `key` for ttlMs, or null if someone else holds it. */
  acquire(key: string, ttlMs: number): Promise<Lease | null>;
  /** True the first time `key` is claimed within ttlMs, false after (dedup, alert throttles, notices). */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Forget a claimOnce key before its TTL (a person's data erased: their per-person claims go too). */
  forgetClaim(key: string): Promise<void>;
}

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until the window frees a slot. */
  resetMs: number;
}

export interface RateLimiter {
  /**
   * Count one hit for `key`; atomic across processes. With `hitId`, a hit already counted under that id in the
   * window is allowed again without being counted twice (a retried job re-checking the same message).
   */
  hit(key: string, limit: number, windowSeconds: number, hitId?: string): Promise<RateDecision>;
  /** Forget every hit counted for `key` (a user's data erased: their counter goes too). */
  reset(key: string): Promise<void>;
}

// ── channel ──────────────────────────────────────────────────────────────────────────────────────────────

export interface OutboundMessage {
  /** Channel address of the user (`whatsapp:+E164`, or a scoped id such as `whatsapp:CO.123`, never with a `+`). */
  to: string;
  /** Our business address; the channel's configured default when absent. */
  from?: string;
  /** The text: the message itself, a media caption, or a template's rendering (what findSent compares). */
  body: string;
  /** What to send when it is not plain text (media, a template, a reaction). */
  content?: OutboundContent;
  /** Where the channel should post delivery status callbacks, when we have a public URL. */
  statusCallbackUrl?: string;
  /**
   * Our delivery part's id (deliveries.id). Meta echoes it in its status webhooks (biz_opaque_callback_data),
   * which is how a send whose answer we lost in a crash is found again: Meta has no "find my message" query.
   */
  partId?: string;
  /** The provider's id of a message this one quotes (a reply shown with the quoted message above it). */
  quotedMessageId?: string;
}

export interface SendResult {
  providerMessageId: string;
  status: DeliveryStatus;
}

/** What a channel can send, written once per channel; the pipeline asks before it stores an outbound message. */
export interface ChannelCapabilities {
  media: boolean;
  templates: boolean;
  reactions: boolean;
}

export interface Channel {
  readonly name: ChannelName;
  /** Longest body one message may carry (Twilio WhatsApp: 1600). */
  readonly maxBodyLength: number;
  readonly capabilities: ChannelCapabilities;
  /**
   * Our addresses this channel sends from (Twilio: TWILIO_WHATSAPP_NUMBER; Meta: the phone number ids of the number
   * directory, as last read); the first is its default.
   */
  readonly senders: readonly string[];
  /**
   * Throws AppError: channel_rejected (permanent, with the provider's code), channel_rate_limited, …, and
   * channel_unsupported when the channel cannot send this kind of content at all.
   */
  send(message: OutboundMessage): Promise<SendResult>;
  /**
   * After a crash in the middle of a send we cannot know whether the provider took the message. This asks it:
   * the message to `to` with exactly `body` created at or after `sentAfter`, or null. A channel that cannot tell
   * yet throws a retryable AppError with code SEND_UNCONFIRMED (domain/errors.ts): the sender waits, never resends.
   */
  findSent(query: {
    to: string;
    from?: string;
    body: string;
    sentAfter: Date;
    /** The part was a template: its text is the provider's rendering, so it cannot be compared. */
    template?: boolean;
    /** The part's id, as given to send() (see OutboundMessage.partId). */
    partId?: string;
  }): Promise<SendResult | null>;
  /**
   * Best effort, when the bot is about to answer the user's message: mark it read (and earlier ones with it) and
   * show "typing…" (Meta). Channels that have no such thing leave it out. Throws AppError; callers log and go on.
   */
  acknowledge?(message: { providerMessageId: string; from?: string }): Promise<void>;
  /**
   * Download one inbound media item (issue #15) for the business number it came to, under `limits`; throws
   * MediaRefused (media/fetch-twilio-media.ts) for a file it will not take. Absent: the channel has no media.
   */
  fetchMedia?(
    item: MediaItem,
    businessAddress: string,
    limits: { maxBytes: number; timeoutMs: number },
    signal?: AbortSignal,
  ): Promise<FetchedMedia>;
}

export interface FetchedMedia {
  bytes: Buffer;
  /** The type the server really sent (may refine the one the webhook named). */
  contentType: string;
}

// ── chat model ───────────────────────────────────────────────────────────────────────────────────────────

/** The model's input, one message per entry, and the tools it may call (defined in the domain, which builds both). */
export type { ChatMessage, ToolCall, ToolDefinition };

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** Tools offered to the model; only sent to a model with `supportsTools`. */
  tools?: ToolDefinition[];
}

export interface ChatResult {
  /** The answer's text; may be empty when the model called a tool instead. */
  text: string;
  /** The model that answered, as the provider reports it. */
  model: string;
  usage: TokenUsage;
  /** The tools the model called, in its order; absent or empty when it called none. */
  toolCalls?: ToolCall[];
}

export interface ChatModel {
  /** `openai`, `openrouter`, `anthropic`, `openai-compatible`, `offline`. */
  readonly provider: string;
  readonly model: string;
  /** The provider's protocol has tool calls (the model itself may still refuse them: see ai/tool-fallback.ts). */
  readonly supportsTools?: boolean;
  /** Throws AppError of kind ai_timeout, ai_rate_limited, ai_auth, ai_bad_request or ai_unavailable. */
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
}

/** The model to use right now, with its settings (the active AI configuration or the environment's). */
export interface AiChoice {
  model: ChatModel;
  /** Tried once when `model` fails, before the user gets an apology. */
  fallback?: ChatModel | undefined;
  systemPrompt: string;
  temperature: number;
  maxTokens: number;
  /** The model sees images (the configuration's `vision`, else ai/vision-models.ts); absent: it does not. */
  vision?: boolean;
  /** The fallback model sees images (AI_FALLBACK_VISION, else the table); absent: it does not. */
  fallbackVision?: boolean;
  /** Answer a voice note with a voice note too (issue #15); absent: text only. */
  voiceAnswers?: boolean;
  /** The speech voice for voice answers; absent: SPEECH_VOICE. */
  voice?: string;
  /** The AI configuration's own price for `model` (USD per million tokens); absent: the price table's. */
  price?: ModelPrice;
}

/** Which model answers now; asked once per piece of work, so an AI configuration change applies without a restart. */
export interface AiRuntime {
  /** The active AI configuration's choice, else the environment's. */
  current(): Promise<AiChoice>;
  /** The choice of one AI configuration (a business number's persona); the current one when it is gone or broken. */
  forConfig(aiConfigId: string): Promise<AiChoice>;
}

// ── speech ───────────────────────────────────────────────────────────────────────────────────────────────

export interface Transcript {
  text: string;
  /** The audio's length: as the provider billed it (`usage.seconds`), else measured from the file, else estimated. */
  seconds: number;
  /** `seconds` is an estimate from the file's size (neither the provider nor the file said). */
  secondsEstimated: boolean;
}

/** Voice notes to text (ai/transcribe.ts: an OpenAI-compatible /v1/audio/transcriptions). */
export interface Transcriber {
  readonly model: string;
  transcribe(audio: { bytes: Uint8Array; contentType: string }, signal?: AbortSignal): Promise<Transcript>;
}

/** Text to speech for voice answers (ai/speech.ts: an OpenAI-compatible /v1/audio/speech). */
export interface SpeechSynthesizer {
  readonly model: string;
  /** SPEECH_VOICE: used when the AI configuration names no voice. */
  readonly voice: string;
  synthesize(
    text: string,
    voice: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ bytes: Buffer; contentType: string }>;
}

/**
 * Signed, expiring addresses of our stored media (security/media-url.ts), for a provider that fetches a file we
 * send (Twilio's MediaUrl, Meta's link). `public` is false without PUBLIC_BASE_URL: the paths are then relative,
 * fine for the simulator's page and useless to Twilio or Meta.
 */
export interface MediaLinks {
  readonly public: boolean;
  urlFor(key: string): string;
}

// ── business numbers ─────────────────────────────────────────────────────────────────────────────────────

/** What a number's channel needs, decrypted. Meta: all but the Twilio pair; Twilio: accountSid/authToken. */
export interface NumberCredentials {
  accessToken?: string;
  appSecret?: string;
  verifyToken?: string;
  accountSid?: string;
  authToken?: string;
}

/** A business number this deployment answers on: the environment's default or a `business_numbers` row. */
export interface BusinessNumber {
  /** The row's id; null for the environment's default number (TWILIO_WHATSAPP_NUMBER, META_PHONE_NUMBER_ID). */
  id: string | null;
  channel: 'twilio' | 'meta';
  /** Twilio: `whatsapp:+E164`; Meta: the phone number id. Inbound messages carry it as their `to`. */
  address: string;
  name: string;
  /** The AI configuration that answers on it (its persona); null: the active one, else the environment's. */
  aiConfigId: string | null;
  credentials: NumberCredentials;
}

/**
 * Every number the deployment answers on, for the channels (which app secret signed a webhook, which token
 * sends from a number) and the pipeline (which persona answers). Cached: rows added or changed are seen within
 * the refresh interval by every running process, without a restart.
 */
export interface NumberDirectory {
  /** The active numbers of `channel`, the environment's default first. */
  list(channel: 'twilio' | 'meta'): Promise<BusinessNumber[]>;
  /** The active number of `channel` at `address`, or null: an unknown number is never answered. */
  find(channel: 'twilio' | 'meta', address: string): Promise<BusinessNumber | null>;
}
