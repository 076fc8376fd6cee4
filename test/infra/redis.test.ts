/** The Redis adapters against the port contracts, on the real Redis at TEST_REDIS_URL, a random prefix per test. */
import type { Redis } from 'ioredis';
import { createRedis, waitForRedis } from '../../src/infra/redis/connect.js';
import { createRedisContextCache } from '../../src/infra/redis/context-cache.js';
import { createRedisLocks } from '../../src/infra/redis/locks.js';
import { createRedisQueue } from '../../src/infra/redis/queue.js';
import { createRedisRateLimiter } from '../../src/infra/redis/rate-limiter.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { contextCacheContract } from '../contracts/context-cache.contract.js';
import { jobQueueContract } from '../contracts/job-queue.contract.js';
import { locksContract } from '../contracts/locks.contract.js';
import { rateLimiterContract } from '../contracts/rate-limiter.contract.js';
import { sleep } from '../contracts/support.js';
import { deleteKeys, randomPrefix } from './redis-test-keys.js';

/** A fail-fast client under a fresh prefix; disposing it quits the client and deletes the prefix's keys. */
async function connected(): Promise<{ redis: Redis; prefix: string; dispose: () => Promise<void> }> {
  const redis = createRedis(TEST_REDIS_URL, { purpose: 'commands' });
  await waitForRedis(redis, 5000);
  const prefix = randomPrefix();
  return {
    redis,
    prefix,
    dispose: async () => {
      await redis.quit();
      await deleteKeys(prefix);
    },
  };
}

jobQueueContract('redis', (options) => {
  const prefix = randomPrefix();
  const queue = createRedisQueue({ url: TEST_REDIS_URL, prefix, ...options, shutdownTimeoutMs: 5000 });
  return Promise.resolve({ queue, dispose: async () => (await queue.close(), deleteKeys(prefix)) });
});
contextCacheContract('redis', async (options) => {
  const { redis, prefix, dispose } = await connected();
  return { cache: createRedisContextCache(redis, { prefix, ...options }), elapse: sleep, dispose };
});
locksContract('redis', async () => {
  const { redis, prefix, dispose } = await connected();
  return { locks: createRedisLocks(redis, { prefix }), elapse: sleep, dispose };
});
rateLimiterContract('redis', async () => {
  const { redis, prefix, dispose } = await connected();
  return { limiter: createRedisRateLimiter(redis, { prefix }), elapse: sleep, dispose };
});
