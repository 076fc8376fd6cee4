/**
 * Redis behind Sentinel, for real: a Sentinel process (redis-server --sentinel, from the same Debian package as
 * the server) monitors the machine's Redis as primary "mymaster", and our clients and BullMQ queue find the
 * primary through it from a redis+sentinel:// address or REDIS_SENTINELS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../../src/config/load.js';
import { configSecrets } from '../../../src/errors/from-config.js';
import { parseSentinelUrl, sentinelUrl } from '../../../src/infra/redis/address.js';
import { createRedis, waitForRedis } from '../../../src/infra/redis/connect.js';
import { createRedisQueue } from '../../../src/infra/redis/queue.js';
import type { ConversationJob } from '../../../src/ports.js';
import { TEST_REDIS_URL } from '../../helpers/services.js';
import { freePort } from '../../helpers/tcp-proxy.js';
import { waitFor } from '../../contracts/support.js';
import { deleteKeys, randomPrefix } from '../redis-test-keys.js';

const primary = new URL(TEST_REDIS_URL);
let sentinel: ChildProcess;
let sentinelPort: number;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sentinel-'));
  sentinelPort = await freePort();
  const conf = join(directory, 'sentinel.conf');
  // Sentinel rewrites its configuration file, so it gets a writable one of its own.
  await writeFile(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${directory}`,
      `sentinel monitor mymaster ${primary.hostname} ${primary.port || '6379'} 1`,
      '',
    ].join('\n'),
  );
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis({
    port: sentinelPort,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 50,
  });
  probe.on('error', () => undefined); // refused until the Sentinel listens
  try {
    await waitFor(async () => {
      try {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        const address = (await probe.call('sentinel', 'get-master-addr-by-name', 'mymaster')) as
          string[] | null;
        return Array.isArray(address) && address.length === 2;
      } catch {
        return false;
      }
    }, 'the Sentinel to know the primary');
  } finally {
    probe.disconnect();
  }
}, 30_000);

afterAll(async () => {
  sentinel.kill('SIGTERM');
  await rm(directory, { recursive: true, force: true });
});

describe('redis+sentinel:// addresses', () => {
  it('parse into Sentinels, primary name, passwords and db, and reject what they cannot be', () => {
    expect(
      parseSentinelUrl(
        'redis+sentinel://:p%40ss@10.0.0.1:26379,[::1]:26380,sentinel-c/prod/2?sentinelPassword=s3',
      ),
    ).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
        { host: 'sentinel-c', port: 26379 },
      ],
      name: 'prod',
      password: 'p@ss',
      sentinelPassword: 's3',
      db: 2,
    });
    expect(parseSentinelUrl('redis+sentinel://h:26379')).toHaveProperty('error');
    expect(parseSentinelUrl('redis+sentinel://h:99999/mymaster')).toHaveProperty('error');
    expect(
      sentinelUrl({
        sentinels: ' a:1, b:2 ',
        name: 'mymaster',
        password: 'x y',
        sentinelPassword: undefined,
        db: 0,
      }),
    ).toBe('redis+sentinel://:x%20y@a:1,b:2/mymaster/0');
  });

  it('REDIS_SENTINELS builds the address; a malformed one is a configuration problem', () => {
    const ok = validate({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'mymaster' });
    expect(ok.ok && ok.config.redis).toEqual({
      kind: 'redis',
      url: `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster/0`,
    });
    const bad = validate({ REDIS_SENTINELS: 'host:notaport' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.join('\n')).toMatch(/REDIS_SENTINELS/);
    const badUrl = validate({ REDIS_URL: 'redis+sentinel://only-a-host' });
    expect(!badUrl.ok && badUrl.problems.join('\n')).toMatch(/REDIS_URL/);
  });

  it('REDIS_URL takes several Sentinels with ports; a stray % is a clear problem, not a crash', () => {
    const many = validate({ REDIS_URL: 'redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380/mymaster/0' });
    expect(many.ok && many.config.redis).toEqual({
      kind: 'redis',
      url: 'redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380/mymaster/0',
    });
    const stray = validate({ REDIS_URL: 'redis+sentinel://:50%off@10.0.0.1:26379/mymaster' });
    expect(stray.ok).toBe(false);
    expect(!stray.ok && stray.problems.join('\n')).toMatch(/REDIS_URL: .*%25/);
    expect(validate({ REDIS_URL: 'http://not-redis' }).ok).toBe(false);
  });

  it('the Redis and Sentinel passwords of a sentinel address are secrets the error reporter removes', () => {
    const result = validate({
      REDIS_URL:
        'redis+sentinel://:data-pw-123@10.0.0.1:26379,10.0.0.2:26379/mymaster/0?sentinelPassword=sent-pw-456',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(configSecrets(result.config)).toEqual(expect.arrayContaining(['data-pw-123', 'sent-pw-456']));
  });

  it('a client reaches the primary through the Sentinel', async () => {
    const redis = createRedis(`redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`, { purpose: 'commands' });
    try {
      await waitForRedis(redis, 5000);
      expect(await redis.ping()).toBe('PONG');
      // The connection is to the data server the Sentinel named, not to the Sentinel itself.
      const [, port] = (await redis.config('GET', 'port')) as [string, string];
      expect(port).toBe(primary.port || '6379');
    } finally {
      redis.disconnect();
    }
  });

  it('the BullMQ queue runs a job through the Sentinel address', async () => {
    const prefix = randomPrefix();
    const queue = createRedisQueue({
      url: `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`,
      prefix,
      attempts: 1,
      backoffMs: 10,
      shutdownTimeoutMs: 2000,
    });
    const handled: ConversationJob[] = [];
    try {
      await queue.consume(
        (job) => {
          handled.push(job);
          return Promise.resolve({ kind: 'done' });
        },
        { concurrency: 1 },
      );
      await queue.enqueue({ conversationId: 'c-1', messageId: 'm-1' }, { fresh: true });
      await waitFor(() => handled.length === 1, 'the job to run');
      expect(handled[0]).toMatchObject({ conversationId: 'c-1', messageId: 'm-1' });
    } finally {
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});
