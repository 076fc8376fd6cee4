import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, waitForRedis } from '../../../src/infra/redis/connect.js';
import { createRedisRateLimiter } from '../../../src/infra/redis/rate-limiter.js';
import { TEST_REDIS_URL } from '../../helpers/services.js';
import { deleteKeys, randomPrefix } from '../redis-test-keys.js';

const prefix = randomPrefix();
const clients = [
  createRedis(TEST_REDIS_URL, { purpose: 'commands' }),
  createRedis(TEST_REDIS_URL, { purpose: 'commands' }),
];
afterEach(async () => {
  await Promise.all(clients.map((client) => client.quit()));
  await deleteKeys(prefix);
});

describe('Redis RateLimiter', () => {
  it('two connections (as two processes) hitting one key at once never exceed the limit together', async () => {
    await Promise.all(clients.map((client) => waitForRedis(client, 5000)));
    const limiters = clients.map((client) => createRedisRateLimiter(client, { prefix }));
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => limiters[i % 2]!.hit('user:1', 10, 60)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.filter((d) => d.allowed && d.remaining === 0)).toHaveLength(1);
  });
});
