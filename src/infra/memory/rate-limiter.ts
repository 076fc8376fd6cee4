/**
 * In-process sliding-window log, the same rule as the Redis script: drop hits older than the window, allow and
 * record the hit if fewer than `limit` remain, never record a denied hit. One event loop makes it atomic.
 */
import type { RateLimiter } from '../../ports.js';
import { systemClock, type Clock } from './clock.js';

interface Window {
  /** Times of the counted hits, oldest first. */
  times: number[];
  windowMs: number;
}

export function createMemoryRateLimiter(options: { clock?: Clock } = {}): RateLimiter {
  const clock = options.clock ?? systemClock;
  const windows = new Map<string, Window>();
  let hits = 0;

  // Keys nobody hits again would otherwise stay forever (Redis expires them); drop the stale ones now and then.
  function sweep(now: number): void {
    if (++hits % 1000 !== 0) return;
    for (const [key, window] of windows) {
      if ((window.times.at(-1) ?? -Infinity) <= now - window.windowMs) windows.delete(key);
    }
  }

  return {
    hit(key, limit, windowSeconds) {
      const now = clock.now();
      sweep(now);
      const windowMs = Math.round(windowSeconds * 1000);
      const times = (windows.get(key)?.times ?? []).filter((at) => at > now - windowMs);
      const allowed = times.length < limit;
      if (allowed) times.push(now);
      if (times.length > 0) windows.set(key, { times, windowMs });
      else windows.delete(key);
      const oldest = times[0];
      return Promise.resolve({
        allowed,
        remaining: Math.max(limit - times.length, 0),
        resetMs: oldest === undefined ? 0 : oldest + windowMs - now,
      });
    },
  };
}
