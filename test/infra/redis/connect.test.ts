import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis, redisKey, waitForRedis } from '../../../src/infra/redis/connect.js';
import { TEST_REDIS_URL } from '../../helpers/services.js';
import { waitFor } from '../../contracts/support.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';

const opened: Redis[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (const redis of opened.splice(0)) redis.disconnect();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

async function throughProxy(purpose: 'commands' | 'worker'): Promise<{ redis: Redis; proxy: TcpProxy }> {
  const proxy = await startTcpProxy(TEST_REDIS_URL);
  proxies.push(proxy);
  const redis = createRedis(`redis://127.0.0.1:${proxy.port}`, { purpose });
  opened.push(redis);
  await waitForRedis(redis, 5000);
  return { redis, proxy };
}

describe('createRedis', () => {
  it('a commands client rejects at once while Redis is down, and reconnects by itself when it is back', async () => {
    const { redis, proxy } = await throughProxy('commands');
    expect(await redis.ping()).toBe('PONG');
    await proxy.stop();
    await waitFor(() => redis.status !== 'ready', 'the client to notice the outage');
    await expect(redis.ping()).rejects.toThrow();
    await proxy.start();
    await waitFor(() => redis.status === 'ready', 'the client to reconnect');
    expect(await redis.ping()).toBe('PONG');
  });

  it('a worker client keeps a command issued during an outage and runs it once Redis is back', async () => {
    const { redis, proxy } = await throughProxy('worker');
    await proxy.stop();
    await waitFor(() => redis.status !== 'ready', 'the client to notice the outage');
    const pending = redis.ping();
    await proxy.start();
    expect(await pending).toBe('PONG');
  });

  it('survives connection errors without an unhandled error event', async () => {
    // Port 1 refuses connections: without an 'error' listener ioredis would crash the test process.
    const redis = createRedis('redis://127.0.0.1:1', { purpose: 'commands' });
    opened.push(redis);
    await expect(redis.ping()).rejects.toThrow();
    await expect(waitForRedis(redis, 200)).rejects.toThrow(/not ready/);
  });
});

describe('redisKey', () => {
  it('joins the prefix and the parts with colons, whatever the prefix ends with', () => {
    expect(redisKey('chatbot', 'lock', 'conversation:1')).toBe('chatbot:lock:conversation:1');
    expect(redisKey('chatbot:', 'rate', 'u')).toBe('chatbot:rate:u');
  });
});
