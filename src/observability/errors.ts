/**
 * Error categories and severities for the errors_total metric, named as in the original system's error
 * handler so its dashboards and alert rules keep their meaning. Every AppError kind maps to one pair; the
 * severity says how soon a person should look: CRITICAL needs an operator now (a credential or the
 * configuration is wrong), HIGH means a dependency is down, MEDIUM is transient and retried, LOW is the
 * outside world misbehaving (forged webhooks, users who opted out).
 */
import { isAppError, type ErrorKind } from '../domain/errors.js';

export const ERROR_CATEGORIES = ['WEBHOOK', 'AI', 'DATABASE', 'WHATSAPP', 'SYSTEM', 'CONFIGURATION'] as const;
export const ERROR_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];
export type ErrorSeverity = (typeof ERROR_SEVERITIES)[number];

export interface ErrorClass {
  category: ErrorCategory;
  severity: ErrorSeverity;
}

const BY_KIND: Record<ErrorKind, ErrorClass> = {
  invalid_input: { category: 'WEBHOOK', severity: 'LOW' },
  bad_signature: { category: 'WEBHOOK', severity: 'LOW' },
  payload_too_large: { category: 'WEBHOOK', severity: 'LOW' },
  not_found: { category: 'WEBHOOK', severity: 'LOW' },
  unauthorized: { category: 'WEBHOOK', severity: 'LOW' },
  config: { category: 'CONFIGURATION', severity: 'CRITICAL' },
  ai_rate_limited: { category: 'AI', severity: 'MEDIUM' },
  ai_timeout: { category: 'AI', severity: 'MEDIUM' },
  ai_unavailable: { category: 'AI', severity: 'MEDIUM' },
  // Our request is wrong (model name, context too long): every message will fail the same way.
  ai_bad_request: { category: 'AI', severity: 'HIGH' },
  ai_auth: { category: 'AI', severity: 'CRITICAL' },
  channel_rate_limited: { category: 'WHATSAPP', severity: 'MEDIUM' },
  channel_unavailable: { category: 'WHATSAPP', severity: 'MEDIUM' },
  // The user's side (opted out, outside the 24 h window, invalid number): recorded, nothing to fix here.
  channel_rejected: { category: 'WHATSAPP', severity: 'LOW' },
  channel_auth: { category: 'WHATSAPP', severity: 'CRITICAL' },
  database_unavailable: { category: 'DATABASE', severity: 'HIGH' },
  queue_unavailable: { category: 'SYSTEM', severity: 'HIGH' },
  internal: { category: 'SYSTEM', severity: 'HIGH' },
};

/**
 * The class of any thrown value. An error that is not an AppError is unexpected (a bug or a dependency failing
 * in a way nobody mapped): HIGH, in `where` when the caller knows which part it came from.
 */
export function classifyError(error: unknown, where: ErrorCategory = 'SYSTEM'): ErrorClass {
  if (isAppError(error)) return BY_KIND[error.kind];
  return { category: where, severity: 'HIGH' };
}
