/**
 * One error type for the whole application. `kind` says what happened, `retryable` says whether trying the
 * same thing again later may succeed. HTTP maps kind → status in one place (http/server.ts); the worker maps
 * retryable → retry or give up; the processor maps AI kinds → a friendly user message.
 */
export type ErrorKind =
  // input from the outside world
  | 'invalid_input'
  | 'bad_signature'
  | 'payload_too_large'
  | 'not_found'
  | 'unauthorized'
  /** Authenticated, but the role does not allow it (403). */
  | 'forbidden'
  /** The request is valid but the state refuses it (409): opted out, outside the window, … (`code` says which). */
  | 'conflict'
  // configuration
  | 'config'
  // AI provider
  | 'ai_rate_limited'
  | 'ai_timeout'
  | 'ai_auth'
  | 'ai_bad_request'
  | 'ai_unavailable'
  // outbound channel (Twilio, Meta)
  | 'channel_rate_limited'
  | 'channel_unavailable'
  | 'channel_rejected'
  | 'channel_auth'
  | 'channel_unsupported'
  // infrastructure
  | 'database_unavailable'
  | 'queue_unavailable'
  | 'internal';

export interface AppErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Seconds the other side asked us to wait (Retry-After), when it said so. */
  retryAfterSeconds?: number;
  /** Provider's own error code (e.g. Twilio 21211), kept for the record; never shown to users. */
  code?: string;
  /**
   * A failed send that certainly never reached the provider (connection refused, DNS, refused with 429/4xx).
   * Without it a failed send is ambiguous (a timeout or a reset may come after the provider took the message):
   * the retry asks the provider before sending again.
   */
  notSent?: boolean;
}

const DEFAULT_RETRYABLE: Record<ErrorKind, boolean> = {
  invalid_input: false,
  bad_signature: false,
  payload_too_large: false,
  not_found: false,
  unauthorized: false,
  forbidden: false,
  conflict: false,
  config: false,
  ai_rate_limited: true,
  ai_timeout: true,
  ai_auth: false,
  ai_bad_request: false,
  ai_unavailable: true,
  channel_rate_limited: true,
  channel_unavailable: true,
  channel_rejected: false,
  channel_auth: false,
  channel_unsupported: false,
  database_unavailable: true,
  queue_unavailable: true,
  internal: false,
};

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly code: string | undefined;
  readonly notSent: boolean;

  constructor(kind: ErrorKind, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.retryable = options.retryable ?? DEFAULT_RETRYABLE[kind];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.code = options.code;
    this.notSent = options.notSent ?? false;
  }
}

/**
 * AppError.code of a Channel.findSent that cannot tell yet whether the provider took a message (Meta: no status
 * webhook has named the part so far). The sender waits `retryAfterSeconds` and asks again; it neither sends again
 * nor counts an attempt meanwhile (pipeline/send-parts.ts).
 */
export const SEND_UNCONFIRMED = 'send_unconfirmed';

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** HTTP status for each kind, used by the one error handler of the web server. */
export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid_input: 400,
  bad_signature: 403,
  payload_too_large: 413,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  config: 500,
  ai_rate_limited: 503,
  ai_timeout: 504,
  ai_auth: 502,
  ai_bad_request: 502,
  ai_unavailable: 503,
  channel_rate_limited: 503,
  channel_unavailable: 503,
  channel_rejected: 502,
  channel_auth: 502,
  channel_unsupported: 422,
  database_unavailable: 503,
  queue_unavailable: 503,
  internal: 500,
};
