/**
 * Sliding-window log on Redis: one sorted set per key, one member per counted hit, scored by Redis's own clock
 * (TIME) so processes with skewed clocks agree. Prune, count, add and expire run in one Lua script, so concurrent
 * hits from any number of processes can never let more than `limit` through. Denied hits are not recorded:
 * someone who keeps writing while limited gets in again once the window has room.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimiter } from '../../ports.js';
import { redisKey } from './connect.js';
import { defineScript } from './script.js';

// Returns {allowed (0/1), remaining, resetMs}; resetMs is when the oldest counted hit leaves the window.
const SLIDING_WINDOW = defineScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, windowMs)
  count = count + 1
  allowed = 1
end
local resetMs = 0
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then resetMs = tonumber(oldest[2]) + windowMs - now end
return {allowed, math.max(limit - count, 0), resetMs}`);

export function createRedisRateLimiter(redis: Redis, options: { prefix: string }): RateLimiter {
  return {
    async hit(key, limit, windowSeconds) {
      const reply = await SLIDING_WINDOW(
        redis,
        [redisKey(options.prefix, 'rate', key)],
        [limit, Math.round(windowSeconds * 1000), randomUUID()],
      );
      const [allowed, remaining, resetMs] = reply as [number, number, number];
      return { allowed: allowed === 1, remaining, resetMs };
    },
  };
}
