/**
 * The original system's error taxonomy (chatbot_core/error_handler.py): a category says which part of the system
 * failed, a severity says how urgently a person must look. Both follow from the AppError kind, so the callers of
 * the reporter rarely have to choose; they may still override either when they know better. This table is the
 * single source of truth: the errors_total metric (observability/errors.ts) classifies through categorize() too,
 * so a log line, an admin alert and the metric never disagree about one failure.
 */
import { isAppError, type ErrorKind } from '../domain/errors.js';

export const ERROR_CATEGORIES = ['WEBHOOK', 'AI', 'DATABASE', 'WHATSAPP', 'SYSTEM', 'CONFIGURATION'] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Categorized {
  category: ErrorCategory;
  severity: Severity;
  /** What the throttle counts as "the same error": the AppError kind, else the error's class name. */
  type: string;
}

const BY_KIND: Record<ErrorKind, { category: ErrorCategory; severity: Severity }> = {
  // Someone else's bad request: worth a line, never a page.
  invalid_input: { category: 'WEBHOOK', severity: 'LOW' },
  bad_signature: { category: 'WEBHOOK', severity: 'LOW' },
  payload_too_large: { category: 'WEBHOOK', severity: 'LOW' },
  not_found: { category: 'WEBHOOK', severity: 'LOW' },
  unauthorized: { category: 'WEBHOOK', severity: 'LOW' },
  forbidden: { category: 'WEBHOOK', severity: 'LOW' },
  conflict: { category: 'WEBHOOK', severity: 'LOW' },
  // The service cannot work as configured until a person fixes it.
  config: { category: 'CONFIGURATION', severity: 'CRITICAL' },
  // Transient provider trouble is retried (and pages once given up on: WHEN_GIVEN_UP). A refused key stops
  // every reply until a person replaces it; a refused request (model name, context size) fails every message of
  // its kind.
  ai_rate_limited: { category: 'AI', severity: 'MEDIUM' },
  ai_timeout: { category: 'AI', severity: 'MEDIUM' },
  ai_unavailable: { category: 'AI', severity: 'MEDIUM' },
  ai_auth: { category: 'AI', severity: 'CRITICAL' },
  ai_bad_request: { category: 'AI', severity: 'HIGH' },
  channel_rate_limited: { category: 'WHATSAPP', severity: 'MEDIUM' },
  channel_unavailable: { category: 'WHATSAPP', severity: 'MEDIUM' },
  // A refusal concerns one recipient (opted out, outside the 24 h window): recorded on the message.
  channel_rejected: { category: 'WHATSAPP', severity: 'LOW' },
  channel_auth: { category: 'WHATSAPP', severity: 'CRITICAL' },
  channel_unsupported: { category: 'WHATSAPP', severity: 'MEDIUM' },
  // Without the database nothing is accepted: Twilio gets 503s and may give up on the messages.
  database_unavailable: { category: 'DATABASE', severity: 'CRITICAL' },
  // Messages are still stored and enqueued later by the scheduler, but replies wait.
  queue_unavailable: { category: 'SYSTEM', severity: 'HIGH' },
  internal: { category: 'SYSTEM', severity: 'HIGH' },
};

/**
 * Severities that change once the work is given up on (the queue's retries and the fallback model exhausted).
 * One call to an unreachable or hanging provider is routine and retried; the final failure means a user got an
 * apology instead of an answer, and the next ones will too: an outage a person must look at. A rate limit
 * stays MEDIUM: the provider answers and the key works, it passes with the traffic, and the variant that does
 * not pass (OpenAI's insufficient_quota) is already mapped to ai_auth.
 */
const WHEN_GIVEN_UP: Partial<Record<ErrorKind, Severity>> = {
  ai_unavailable: 'HIGH',
  ai_timeout: 'HIGH',
};

/**
 * Category, default severity and type of any thrown value. Unknown errors are SYSTEM/HIGH: a bug to look at.
 * `givenUp`: nothing will retry this failure any more (see WHEN_GIVEN_UP).
 */
export function categorize(error: unknown, options: { givenUp?: boolean } = {}): Categorized {
  if (isAppError(error)) {
    const byKind = BY_KIND[error.kind];
    const severity = (options.givenUp ? WHEN_GIVEN_UP[error.kind] : undefined) ?? byKind.severity;
    return { category: byKind.category, severity, type: error.kind };
  }
  const name = error instanceof Error ? error.name : typeof error;
  return { category: 'SYSTEM', severity: 'HIGH', type: name || 'Error' };
}

/** Severities that page a person (email / alert webhook). */
export function alertsFor(severity: Severity): boolean {
  return severity === 'HIGH' || severity === 'CRITICAL';
}
