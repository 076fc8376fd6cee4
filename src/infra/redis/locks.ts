/**
 * Leases and one-time claims on Redis. A lease is `SET key token NX PX`; extend and release compare the token in
 * Lua first, so a worker whose lease expired (and was taken by another) can never extend or delete the new
 * holder's lock.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Lease, Locks } from '../../ports.js';
import { redisKey } from './connect.js';
import { defineScript } from './script.js';

const EXTEND_IF_OWNER = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);

const RELEASE_IF_OWNER = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

export function createRedisLocks(redis: Redis, options: { prefix: string }): Locks {
  return {
    async acquire(key, ttlMs) {
      const lockKey = redisKey(options.prefix, 'lock', key);
      const token = randomUUID();
      const taken = await redis.set(lockKey, token, 'PX', ttlMs, 'NX');
      return taken === 'OK' ? lease(redis, lockKey, token) : null;
    },
    async claimOnce(key, ttlMs) {
      const claimed = await redis.set(redisKey(options.prefix, 'once', key), '1', 'PX', ttlMs, 'NX');
      return claimed === 'OK';
    },
    async forgetClaim(key) {
      await redis.del(redisKey(options.prefix, 'once', key));
    },
  };
}

function lease(redis: Redis, key: string, token: string): Lease {
  return {
    async extend(ttlMs) {
      return (await EXTEND_IF_OWNER(redis, [key], [token, ttlMs])) === 1;
    },
    async release() {
      await RELEASE_IF_OWNER(redis, [key], [token]);
    },
  };
}
