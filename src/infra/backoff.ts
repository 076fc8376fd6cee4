/**
 * The one retry rule both queues use, so the in-process queue cannot drift from the BullMQ one: exponential
 * from `baseMs` with ±25 % jitter (spreads a burst of failures so the retries do not hit the provider together),
 * capped, and never sooner than the other side asked for with Retry-After.
 */
import { isAppError } from '../domain/errors.js';

/** Longest pause between two attempts; beyond this a retry is more likely to land on a stale conversation. */
export const MAX_RETRY_DELAY_MS = 15 * 60_000;

/**
 * Milliseconds to wait before the next attempt.
 * @param attemptsMade attempts already made, including the one that just failed (1 after the first failure)
 * @param random a source of [0, 1), injectable so tests can pin the jitter
 */
export function retryDelayMs(
  attemptsMade: number,
  baseMs: number,
  error: unknown,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attemptsMade - 1);
  const exponential = Math.min(baseMs * 2 ** exponent, MAX_RETRY_DELAY_MS);
  const jittered = Math.round(exponential * (0.75 + 0.5 * random()));
  const askedMs =
    isAppError(error) && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
  return Math.max(jittered, Math.ceil(askedMs));
}

/** True when the error says that trying again cannot help (an AppError with retryable=false). */
export function isFinalError(error: unknown): boolean {
  return isAppError(error) && !error.retryable;
}
