import type { ErrorCategory, Severity } from './categorize.js';

/** What an administrator is told. Built only from redacted, non-secret parts (see reporter.ts). */
export interface Alert {
  category: ErrorCategory;
  severity: Severity;
  /** The throttled error type: the AppError kind or the error's class name. */
  type: string;
  /** The error's message, redacted. */
  message: string;
  /** Primitive, non-secret details (request id, conversation id, …). */
  context: Record<string, string | number | boolean>;
  occurredAt: Date;
  host: string;
  pid: number;
  /** How long further alerts of this type (and scope) stay muted, for the reader's benefit. */
  mutedForMs: number;
  /** What the throttle tells apart beside the type (the model), when the reporter was given one. */
  scope?: string;
}

/** Something operators should act on that is not an error (a conversation waiting for a human). */
export interface Notice {
  subject: string;
  /** Plain text: the email's body, the webhook message's `text`. */
  text: string;
}

/**
 * One way of reaching an administrator: `send` for an error alert, `notify` for a notice. Both may throw; the
 * caller logs the failure and goes on.
 */
export interface Alerter {
  readonly name: string;
  send(alert: Alert): Promise<void>;
  notify(notice: Notice): Promise<void>;
}

export function alertSubject(alert: Alert): string {
  return `[whatsapp-ai-chatbot] ${alert.severity} ${alert.category} error: ${alert.type}`;
}

/** Plain text: the body of the email and the `text` of the webhook message. */
export function alertText(alert: Alert): string {
  const details = Object.entries(alert.context).map(([key, value]) => `  ${key}: ${String(value)}`);
  const minutes = Math.round(alert.mutedForMs / 60_000);
  return [
    `${alert.severity} ${alert.category} error (${alert.type}): ${alert.message}`,
    `at ${alert.occurredAt.toISOString()} on ${alert.host} (pid ${alert.pid})`,
    ...(details.length > 0 ? ['', 'details:', ...details] : []),
    '',
    `Further ${alert.category}/${alert.type} alerts${alert.scope === undefined ? '' : ` for ${alert.scope}`} are muted for ${minutes} minutes; the logs have every occurrence.`,
  ].join('\n');
}
