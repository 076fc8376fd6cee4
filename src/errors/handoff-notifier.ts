/**
 * Operators are told when a conversation is handed to a human, through the alert channels (email, webhook), at
 * most once per conversation per throttle window: a user who keeps asking, or a conversation handed back and
 * forth, does not flood the inbox. The throttle is a `claimOnce` key of the shared Locks (Redis in production), so
 * the web process (an operator's switch) and the workers (keyword, model) share it; if Redis does not answer,
 * this process throttles on its own rather than stay silent. Never throws: a notification that cannot go out is
 * logged, and the handoff stands.
 */
import { handoffNotice, type HandoffEvent } from '../domain/handoff-notice.js';
import { createMemoryLocks } from '../infra/memory/locks.js';
import type { Logger } from '../log.js';
import type { Locks } from '../ports.js';
import type { Alerter } from './alert.js';
import { createRedactor, redactError } from './redact.js';

export const HANDOFF_NOTICE_THROTTLE_MS = 15 * 60_000;

export interface HandoffNotifierOptions {
  alerters: Alerter[];
  locks: Pick<Locks, 'claimOnce'>;
  log: Logger;
  /** For the link to the conversation in the admin; no link without it. */
  publicBaseUrl: string | undefined;
  /** Configured secret values (the webhook URL's token), kept out of the failures this logs. */
  secrets?: ReadonlyArray<string | undefined>;
  throttleMs?: number;
}

/** Resolves once every channel was tried (or the notice was muted by the throttle). */
export type HandoffNotifier = (event: HandoffEvent) => Promise<void>;

export function createHandoffNotifier(options: HandoffNotifierOptions): HandoffNotifier {
  const { alerters, log } = options;
  const throttleMs = options.throttleMs ?? HANDOFF_NOTICE_THROTTLE_MS;
  const localThrottle = createMemoryLocks();
  const redact = createRedactor(options.secrets ?? []);

  async function claim(key: string): Promise<boolean> {
    try {
      return await options.locks.claimOnce(key, throttleMs);
    } catch (error) {
      log.warn(
        { err: redactError(error, redact) },
        'handoff notice throttle unavailable; throttling in this process only',
      );
      return localThrottle.claimOnce(key, throttleMs);
    }
  }

  return async (event) => {
    try {
      if (alerters.length === 0) return;
      if (!(await claim(`handoff-notice:${event.conversationId}`))) {
        log.debug(
          { conversationId: event.conversationId },
          'handoff notice muted (one per conversation per window)',
        );
        return;
      }
      const notice = handoffNotice(event, options.publicBaseUrl);
      const results = await Promise.allSettled(alerters.map((alerter) => alerter.notify(notice)));
      results.forEach((result, index) => {
        const alerter = alerters[index]?.name;
        if (result.status === 'rejected')
          log.warn(
            { err: redactError(result.reason, redact), alerter, conversationId: event.conversationId },
            'could not send the handoff notice',
          );
        else log.info({ alerter, conversationId: event.conversationId }, 'handoff notice sent');
      });
    } catch (error) {
      log.error({ err: redactError(error, redact) }, 'handoff notifier failed');
    }
  };
}
