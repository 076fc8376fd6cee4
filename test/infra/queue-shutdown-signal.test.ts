/**
 * The job's AbortSignal at shutdown: close() waits for running handlers, and when it stops waiting it fires the
 * signal, so a handler still running starts no model call or send after that (its job runs again elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createRedisQueue } from '../../src/infra/redis/queue.js';
import type { JobContext, JobQueue } from '../../src/ports.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { waitFor } from '../contracts/support.js';
import { deleteKeys, randomPrefix } from './redis-test-keys.js';

async function signalAtShutdown(queue: JobQueue): Promise<{ abortedDuringRun: boolean; reason: unknown }> {
  let context: JobContext | undefined;
  let abortedDuringRun = false;
  await queue.consume(
    async (_job, received) => {
      context = received;
      // A handler that outlives the shutdown grace period, listening to its signal.
      await new Promise<void>((resolve) => {
        received.signal?.addEventListener('abort', () => {
          abortedDuringRun = true;
          resolve();
        });
        setTimeout(resolve, 3000);
      });
      return { kind: 'done' };
    },
    { concurrency: 1 },
  );
  await queue.enqueue({ conversationId: 'c-1', messageId: 'm-1' });
  await waitFor(() => context !== undefined, 'the handler to start');
  expect(context?.signal?.aborted).toBe(false);
  await queue.close();
  return { abortedDuringRun, reason: context?.signal?.reason };
}

describe('the shutdown signal', () => {
  it('memory queue: fired when close() stops waiting for a running handler', async () => {
    const result = await signalAtShutdown(
      createMemoryQueue({ attempts: 1, backoffMs: 10, shutdownTimeoutMs: 200 }),
    );
    expect(result.abortedDuringRun).toBe(true);
    expect(String(result.reason)).toMatch(/shutting down/);
  });

  it('redis queue: fired when close() stops waiting for a running handler', async () => {
    const prefix = randomPrefix();
    try {
      const result = await signalAtShutdown(
        createRedisQueue({ url: TEST_REDIS_URL, prefix, attempts: 1, backoffMs: 10, shutdownTimeoutMs: 300 }),
      );
      expect(result.abortedDuringRun).toBe(true);
      expect(String(result.reason)).toMatch(/shutting down/);
    } finally {
      await deleteKeys(prefix);
    }
  });
});
