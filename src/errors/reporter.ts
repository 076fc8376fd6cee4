/**
 * The error handler of the original system: every reported error is logged once with its category and severity;
 * HIGH and CRITICAL ones also page an administrator (email and/or chat webhook), at most once per error type
 * (and scope, such as the model) per hour across all processes, because the throttle is a shared `claimOnce`
 * key (Redis in production).
 */
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { Locks } from '../ports.js';
import { createMemoryLocks } from '../infra/memory/locks.js';
import type { Alert, Alerter } from './alert.js';
import { alertsFor, categorize, type ErrorCategory, type Severity } from './categorize.js';
import { createRedactor, redactError, safeContext } from './redact.js';

export interface ReportInfo {
  /** Defaults to what categorize() says about the error. */
  category?: ErrorCategory;
  severity?: Severity;
  /** Non-secret details (request id, conversation id, …); only primitive values are kept. */
  context?: Record<string, unknown>;
  /** Nothing retries this failure any more: a transient AI failure becomes an outage (categorize()). */
  givenUp?: boolean;
  /**
   * What, beside the category and type, makes two alerts different (the model): one alert per category, type
   * and scope per throttle window, so two broken models are two alerts and an outage of one is one.
   */
  scope?: string;
  /**
   * A failure the operator can fix from the message alone (port in use, database not reachable): logged as one
   * line without the stack, still counted and alerted.
   */
  expected?: boolean;
}

export interface ErrorReporter {
  /** Log, count and maybe alert. Never throws, never rejects; await it only to know the alert went out. */
  report(error: unknown, info?: ReportInfo): Promise<void>;
}

/** The shape of a prom-client Counter with these labels, so one can be passed as it is. */
export interface ErrorMetrics {
  inc(labels: { category: string; severity: string }): void;
}

export interface ReporterOptions {
  log: Logger;
  /** The shared throttle: claimOnce(`alert:<category>:<type>[:<scope>]`, 1 h). */
  locks: Pick<Locks, 'claimOnce'>;
  alerters: Alerter[];
  metrics?: ErrorMetrics;
  /** Configured secret values, removed from every message and stack this reporter writes or sends. */
  secrets?: ReadonlyArray<string | undefined>;
  /** One alert per error type per this long; one hour as in the original system. */
  throttleMs?: number;
}

export const ALERT_THROTTLE_MS = 3_600_000;

const LEVEL: Record<Severity, 'info' | 'warn' | 'error' | 'fatal'> = {
  LOW: 'info',
  MEDIUM: 'warn',
  HIGH: 'error',
  // pino's highest level, what log pipelines map to CRITICAL; it does not end the process.
  CRITICAL: 'fatal',
};

export function createErrorReporter(options: ReporterOptions): ErrorReporter {
  const { log, alerters } = options;
  const throttleMs = options.throttleMs ?? ALERT_THROTTLE_MS;
  const redact = createRedactor(options.secrets ?? []);
  // Redis down must neither silence alerts nor let every error page someone: fall back to a per-process throttle.
  const localThrottle = createMemoryLocks();

  async function claim(key: string): Promise<boolean> {
    try {
      return await options.locks.claimOnce(key, throttleMs);
    } catch (error) {
      log.warn(
        { err: redactError(error, redact) },
        'alert throttle unavailable; throttling in this process only',
      );
      return localThrottle.claimOnce(key, throttleMs);
    }
  }

  async function alert(payload: Alert): Promise<void> {
    const scope = payload.scope === undefined ? '' : `:${payload.scope}`;
    if (!(await claim(`alert:${payload.category}:${payload.type}${scope}`))) {
      log.debug(
        { category: payload.category, errorType: payload.type, scope: payload.scope },
        'alert muted (one per type and scope per throttle window)',
      );
      return;
    }
    const results = await Promise.allSettled(alerters.map((alerter) => alerter.send(payload)));
    results.forEach((result, index) => {
      const name = alerters[index]?.name;
      if (result.status === 'rejected') {
        log.warn(
          { err: redactError(result.reason, redact), alerter: name },
          'could not send the admin alert',
        );
      } else {
        log.info({ alerter: name, category: payload.category, errorType: payload.type }, 'admin alert sent');
      }
    });
  }

  return {
    async report(error, info = {}) {
      try {
        const categorized = categorize(error, { givenUp: info.givenUp === true });
        const category = info.category ?? categorized.category;
        const severity = info.severity ?? categorized.severity;
        const context = safeContext(info.context, redact);
        const err = redactError(error, redact);
        log[LEVEL[severity]](
          {
            severity,
            category,
            errorType: categorized.type,
            ...(info.expected === true ? {} : { err }),
            ...context,
          },
          `[${severity}] ${category} error (${categorized.type}): ${err.message}`,
        );
        options.metrics?.inc({ category, severity });
        if (!alertsFor(severity) || alerters.length === 0) return;
        await alert({
          category,
          severity,
          type: categorized.type,
          message: err.message,
          context,
          occurredAt: new Date(),
          host: hostname(),
          pid: process.pid,
          mutedForMs: throttleMs,
          ...(info.scope === undefined ? {} : { scope: redact(info.scope) }),
        });
      } catch (failure) {
        // The error handler must never become the error.
        log.error({ err: redactError(failure, redact) }, 'error reporter failed');
      }
    },
  };
}
