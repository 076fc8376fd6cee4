import type { Logger } from '../../log.js';
import type { Locks, RateLimiter } from '../../ports.js';
import { rateLimitedNotice } from '../../domain/user-messages.js';
import { ANSWER, type Policy } from '../gate.js';

/** The limiter's key for one user: also what an erasure of their data resets (inbox/data-rights.ts). */
export function userRateKey(channel: string, userAddress: string): string {
  return `user:${channel}:${userAddress}`;
}

/** The claimOnce key of a user's over-the-limit notice (one per window): an erasure forgets it too. */
export function rateNoticeKey(channel: string, userAddress: string): string {
  return `rate-notice:${channel}:${userAddress}`;
}

/**
 * RATE_LIMIT_MAX_REQUESTS per user per window, counted across workers. Each message is counted under its own id,
 * so a retried job or a folded batch asking again for the same message is not counted twice. Over the limit the
 * user gets one notice per window; the rest are skipped. A limiter that does not answer lets the message through.
 */
export function rateLimitPolicy(
  deps: { limiter: RateLimiter; locks: Locks; log: Logger },
  settings: { rateLimitMax: number; rateLimitWindowSeconds: number },
): Policy {
  return async (message, conversation) => {
    let allowed: boolean;
    try {
      const decision = await deps.limiter.hit(
        userRateKey(conversation.channel, conversation.userAddress),
        settings.rateLimitMax,
        settings.rateLimitWindowSeconds,
        message.id,
      );
      allowed = decision.allowed;
    } catch (error) {
      deps.log.warn({ err: error, messageId: message.id }, 'rate limiter unavailable; message let through');
      return ANSWER;
    }
    if (allowed) return ANSWER;
    const windowMs = settings.rateLimitWindowSeconds * 1000;
    const firstInWindow = await deps.locks
      .claimOnce(rateNoticeKey(conversation.channel, conversation.userAddress), windowMs)
      .catch(() => true);
    return firstInWindow
      ? { kind: 'notice', reason: 'rate_limited', text: rateLimitedNotice() }
      : { kind: 'skip', reason: 'rate_limited' };
  };
}
