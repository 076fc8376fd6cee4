import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, waitForRedis } from '../../../src/infra/redis/connect.js';
import { createRedisRateLimiter } from '../../../src/infra/redis/rate-limiter.js';
import { TEST_REDIS_URL } from '../../helpers/services.js';
import { deleteKeys, randomPrefix } from '../redis-test-keys.js';

const prefix = randomPrefix();
const clients = [
  createRedis(TEST_REDIS_URL, { purpose: 'commands' }),
  createRedis(TEST_REDIS_URL, { purpose: 'commands' }),
];
afterAll(async () => {
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

  it('decides hits that share one script call in arrival order, each key on its own', async () => {
    const client = clients[0]!;
    await waitForRedis(client, 5000);
    const calls: number[] = [];
    const limiter = createRedisRateLimiter(client, { prefix, onCall: (hits) => calls.push(hits) });
    const keys = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'user:a' : 'user:b'));
    const decisions = await Promise.all(keys.map((key) => limiter.hit(key, key === 'user:a' ? 10 : 5, 60)));

    // The first hit went alone; the 39 that arrived meanwhile shared the next call.
    expect(calls).toEqual([1, 39]);
    const forA = decisions.filter((_, i) => keys[i] === 'user:a');
    const forB = decisions.filter((_, i) => keys[i] === 'user:b');
    expect(forA.map((d) => d.allowed)).toEqual(Array.from({ length: 20 }, (_, i) => i < 10));
    expect(forB.map((d) => d.allowed)).toEqual(Array.from({ length: 20 }, (_, i) => i < 5));
    expect(forA.slice(0, 10).map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(forB.every((d) => d.resetMs > 59_000 && d.resetMs <= 60_000)).toBe(true);
  });
});
