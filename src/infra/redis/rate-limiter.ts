/**
 * Sliding-window log on Redis: one sorted set per key, one member per counted hit, scored by Redis's own clock
 * (TIME) so processes with skewed clocks agree. Prune, count, add and expire run in one Lua script, so concurrent
 * hits from any number of processes can never let more than `limit` through. Denied hits are not recorded:
 * someone who keeps writing while limited gets in again once the window has room.
 *
 * Hits are naturally batched (infra/natural-batcher.ts): while one script call is on its way, the hits that
 * arrive wait and then go together in one call, which decides them in arrival order. Under webhook load this
 * saves a round trip per message in the web process and in Redis; alone, a hit goes at once.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from '../../ports.js';
import { naturalBatcher } from '../natural-batcher.js';
import { redisKey } from './connect.js';
import { defineScript } from './script.js';

// KEYS: one per hit. ARGV: limit, windowMs and a member per hit, in the same order. A member already in the
// window (a hit counted before under the same id) is allowed again and not counted twice.
// Returns {allowed (0/1), remaining, resetMs} per hit, flattened; resetMs is when the oldest counted hit leaves
// the window. One key may appear several times: the hits are decided one after the other.
const SLIDING_WINDOW = defineScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 * i - 2])
  local windowMs = tonumber(ARGV[3 * i - 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
  local count = redis.call('ZCARD', key)
  local allowed = 0
  if redis.call('ZSCORE', key, ARGV[3 * i]) then
    allowed = 1
  elseif count < limit then
    redis.call('ZADD', key, now, ARGV[3 * i])
    redis.call('PEXPIRE', key, windowMs)
    count = count + 1
    allowed = 1
  end
  local resetMs = 0
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then resetMs = tonumber(oldest[2]) + windowMs - now end
  out[#out + 1] = allowed
  out[#out + 1] = math.max(limit - count, 0)
  out[#out + 1] = resetMs
end
return out`);

interface Hit {
  key: string;
  limit: number;
  windowMs: number;
  id: string;
}

export interface RedisRateLimiterOptions {
  prefix: string;
  /** Called with the number of hits of each script call (tests). */
  onCall?: (hits: number) => void;
  /** A hit not sent within this fails (the caller then lets the message through). */
  maxWaitMs?: number;
}

export function createRedisRateLimiter(redis: Redis, options: RedisRateLimiterOptions): RateLimiter {
  const batcher = naturalBatcher<Hit, RateDecision>({
    // Redis answers in well under a millisecond; a second lane only when a call has hung for 100 ms.
    maxLanes: 4,
    slowMs: 100,
    maxBatch: 200,
    // As long as a lone command may wait (connect.ts): past it the caller lets the message through.
    maxWaitMs: options.maxWaitMs ?? 2000,
    timeoutError: () => new Error('Redis did not take the rate-limit hit for too long'),
    async run(hits) {
      options.onCall?.(hits.length);
      const reply = (await SLIDING_WINDOW(
        redis,
        hits.map((hit) => hit.key),
        hits.flatMap((hit) => [hit.limit, hit.windowMs, hit.id]),
      )) as number[];
      return hits.map((_, i) => ({
        allowed: reply[3 * i] === 1,
        remaining: reply[3 * i + 1] as number,
        resetMs: reply[3 * i + 2] as number,
      }));
    },
  });
  return {
    hit(key, limit, windowSeconds, hitId) {
      return batcher.submit({
        key: redisKey(options.prefix, 'rate', key),
        limit,
        windowMs: Math.round(windowSeconds * 1000),
        id: hitId ?? randomUUID(),
      });
    },
    async reset(key) {
      await redis.del(redisKey(options.prefix, 'rate', key));
    },
  };
}
