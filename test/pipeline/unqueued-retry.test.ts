/**
 * The web process's own retry of messages it could not queue, against the real BullMQ queue on the real Redis
 * behind a TCP proxy the test cuts and restores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisQueue } from '../../src/infra/redis/queue.js';
import { createUnqueuedRetry, type UnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { JobQueue } from '../../src/ports.js';
import { waitFor } from '../contracts/support.js';
import { captureLog } from '../errors/capture-log.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { deleteKeys, randomPrefix } from '../infra/redis-test-keys.js';
import { startTcpProxy } from '../infra/tcp-proxy.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function redisQueue(url: string): JobQueue {
  const prefix = randomPrefix();
  const queue = createRedisQueue({ url, prefix, attempts: 3, backoffMs: 10 });
  cleanups.push(() => deleteKeys(prefix));
  cleanups.push(() => queue.close());
  return queue;
}

function retrying(queue: JobQueue, options: { maxEntries?: number } = {}) {
  const capture = captureLog();
  const retry: UnqueuedRetry = createUnqueuedRetry({ queue, log: capture.log, ...options });
  cleanups.push(() => retry.close());
  return { retry, capture };
}

const job = (id: string) => ({ conversationId: `c-${id}`, messageId: `m-${id}`, requestId: `r-${id}` });

describe('unqueued retry', () => {
  it('enqueues the jobs refused while Redis was down once it is back, each message once', async () => {
    const proxy = await startTcpProxy(TEST_REDIS_URL);
    cleanups.push(() => proxy.stop());
    const queue = redisQueue(`redis://127.0.0.1:${proxy.port}`);
    await queue.enqueue(job('before'), { fresh: true });
    await proxy.stop();
    await expect(queue.enqueue(job('during'), { fresh: true })).rejects.toMatchObject({
      kind: 'queue_unavailable',
    });

    const { retry, capture } = retrying(queue);
    for (let i = 0; i < 40; i++) retry.add(job(String(i)));
    retry.add(job('7'));
    expect(retry.size()).toBe(40);

    await proxy.start();
    await waitFor(() => retry.size() === 0, 'the retry to empty', 20_000);
    expect((await queue.stats()).waiting).toBe(41);
    const back = capture.lines().filter((l) => l.msg?.startsWith('queue back'));
    expect(back.reduce((sum, line) => sum + Number(line.requeued), 0)).toBe(40);
  }, 30_000);

  it('keeps at most maxEntries, dropping the oldest, and says so in one line', () => {
    const queue = redisQueue('redis://127.0.0.1:1');
    const { retry, capture } = retrying(queue, { maxEntries: 3 });
    for (let i = 0; i < 6; i++) retry.add(job(String(i)));
    expect(retry.size()).toBe(3);
    const dropped = capture.lines().filter((l) => l.msg?.startsWith('too many messages waiting'));
    expect(dropped).toEqual([expect.objectContaining({ level: 40, dropped: 1, maxEntries: 3 })]);
  });

  it('close() stops retrying and names what is left for the sweep', () => {
    const queue = redisQueue('redis://127.0.0.1:1');
    const { retry, capture } = retrying(queue);
    retry.add(job('a'));
    retry.add(job('b'));
    retry.close();
    retry.add(job('c'));
    expect(retry.size()).toBe(2);
    expect(capture.lines().filter((l) => l.msg?.startsWith('shutting down'))).toEqual([
      expect.objectContaining({ level: 40, unqueued: 2 }),
    ]);
  });
});
