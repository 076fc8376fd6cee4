/** What only the BullMQ adapter must show: failing fast without Redis, recovering with it, and crash recovery. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationJob, JobContext, JobQueue } from '../../../src/ports.js';
import { createRedisQueue, type RedisQueueOptions } from '../../../src/infra/redis/queue.js';
import { TEST_REDIS_URL } from '../../helpers/services.js';
import { deferred, waitFor } from '../../contracts/support.js';
import { deleteKeys, randomPrefix } from '../redis-test-keys.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function queue(options: Partial<RedisQueueOptions> & { prefix: string }): JobQueue {
  const created = createRedisQueue({ url: TEST_REDIS_URL, attempts: 3, backoffMs: 10, ...options });
  cleanups.push(() => created.close());
  return created;
}

function prefix(): string {
  const chosen = randomPrefix();
  cleanups.push(() => deleteKeys(chosen));
  return chosen;
}

const job: ConversationJob = { conversationId: 'c-1', messageId: 'm-1' };

describe('Redis JobQueue', () => {
  it('enqueue and stats fail with queue_unavailable, rather than hang, when Redis is unreachable', async () => {
    const unreachable = queue({ url: 'redis://127.0.0.1:1', prefix: 'unused' });
    await expect(unreachable.enqueue(job)).rejects.toMatchObject({
      kind: 'queue_unavailable',
      retryable: true,
    });
    await expect(unreachable.stats()).rejects.toMatchObject({ kind: 'queue_unavailable' });
  }, 10_000);

  it('fails concurrent fresh enqueues with queue_unavailable while Redis is down', async () => {
    const proxy: TcpProxy = await startTcpProxy(TEST_REDIS_URL);
    cleanups.push(() => proxy.stop());
    const q = queue({ url: `redis://127.0.0.1:${proxy.port}`, prefix: prefix() });
    await q.enqueue({ conversationId: 'c-1', messageId: 'before' }, { fresh: true });
    await proxy.stop();
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((id) => q.enqueue({ conversationId: 'c-1', messageId: id }, { fresh: true })),
    );
    expect(
      results.map((r) => (r.status === 'rejected' ? (r.reason as { kind: string }).kind : 'ok')),
    ).toEqual(['queue_unavailable', 'queue_unavailable', 'queue_unavailable']);
  }, 15_000);

  it('fails enqueue while Redis is down and accepts jobs again once it is back', async () => {
    const proxy: TcpProxy = await startTcpProxy(TEST_REDIS_URL);
    cleanups.push(() => proxy.stop());
    const q = queue({ url: `redis://127.0.0.1:${proxy.port}`, prefix: prefix() });
    await q.enqueue({ conversationId: 'c-1', messageId: 'before' });

    await proxy.stop();
    await expect(q.enqueue({ conversationId: 'c-1', messageId: 'during' })).rejects.toMatchObject({
      kind: 'queue_unavailable',
    });

    await proxy.start();
    await waitFor(
      () =>
        q.enqueue({ conversationId: 'c-1', messageId: 'after' }).then(
          () => true,
          () => false,
        ),
      'enqueue to work again',
    );
    expect((await q.stats()).waiting).toBe(2);
  });

  it('close() stops waiting for a stuck handler after shutdownTimeoutMs', async () => {
    const chosen = prefix();
    const stuck = queue({
      prefix: chosen,
      shutdownTimeoutMs: 300,
      lockDurationMs: 1000,
      stalledIntervalMs: 500,
    });
    const started = deferred();
    await stuck.consume(
      () => {
        started.resolve();
        return new Promise(() => undefined);
      },
      { concurrency: 1 },
    );
    await stuck.enqueue(job);
    await started.promise;
    await stuck.close();

    // The abandoned job's lock lapses and another worker runs it.
    const rescuer = queue({ prefix: chosen, lockDurationMs: 1000, stalledIntervalMs: 500 });
    const runs: JobContext[] = [];
    await rescuer.consume(
      (_received, context) => {
        runs.push(context);
        return Promise.resolve({ kind: 'done' });
      },
      { concurrency: 1 },
    );
    await waitFor(() => runs.length === 1, 'another worker to run the job', 15_000);
    expect(runs[0]).toMatchObject({ jobId: 'm-1', attempt: 1 });
  }, 20_000);

  it('runs the job of a worker process killed mid-job again in another worker, without counting an attempt', async () => {
    const chosen = prefix();
    const producer = queue({ prefix: chosen, lockDurationMs: 1000, stalledIntervalMs: 500 });
    await producer.enqueue(job);

    const child = spawnStallingWorker(chosen);
    await waitFor(() => child.output.includes('started m-1'), 'the child to start the job', 15_000);
    child.process.kill('SIGKILL');
    await new Promise((resolve) => child.process.once('exit', resolve));

    const runs: JobContext[] = [];
    await producer.consume(
      (_received, context) => {
        runs.push(context);
        return Promise.resolve({ kind: 'done' });
      },
      { concurrency: 1 },
    );
    await waitFor(() => runs.length === 1, 'the job to run again', 15_000);
    expect(runs[0]).toMatchObject({ jobId: 'm-1', attempt: 1 });
    await waitFor(async () => (await producer.stats()).active === 0, 'the job to finish');
    expect(await producer.stats()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  }, 30_000);
});

function spawnStallingWorker(chosenPrefix: string): { process: ChildProcess; output: string } {
  const script = fileURLToPath(new URL('./stalling-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, STALL_REDIS_URL: TEST_REDIS_URL, STALL_PREFIX: chosenPrefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const handle = { process: child as ChildProcess, output: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    handle.output += chunk.toString();
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return Promise.resolve();
  });
  return handle;
}
