/**
 * In-process sliding-window log, the same rule as the Redis script: drop hits older than the window, allow and
 * record the hit if fewer than `limit` remain, never record a denied hit. One event loop makes it atomic.
 */
import type { RateLimiter } from '../../ports.js';
import { systemClock, type Clock } from './clock.js';

interface Window {
  /** The counted hits, oldest first. */
  hits: Array<{ at: number; id: string | undefined }>;
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
      if ((window.hits.at(-1)?.at ?? -Infinity) <= now - window.windowMs) windows.delete(key);
    }
  }

  return {
    hit(key, limit, windowSeconds, hitId) {
      const now = clock.now();
      sweep(now);
      const windowMs = Math.round(windowSeconds * 1000);
      const hits = (windows.get(key)?.hits ?? []).filter((hit) => hit.at > now - windowMs);
      // A hit counted before under the same id is allowed again, not counted twice (as the Redis script).
      const counted = hitId !== undefined && hits.some((hit) => hit.id === hitId);
      const allowed = counted || hits.length < limit;
      if (allowed && !counted) hits.push({ at: now, id: hitId });
      if (hits.length > 0) windows.set(key, { hits, windowMs });
      else windows.delete(key);
      const oldest = hits[0];
      return Promise.resolve({
        allowed,
        remaining: Math.max(limit - hits.length, 0),
        resetMs: oldest === undefined ? 0 : oldest.at + windowMs - now,
      });
    },
    reset(key) {
      windows.delete(key);
      return Promise.resolve();
    },
  };
}
