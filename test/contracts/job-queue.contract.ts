/**
 * What every JobQueue must do, written once and run against each adapter (test/infra/memory.test.ts and
 * test/infra/redis.test.ts). Time here is real: backoffs and delays are kept to tens of milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import type { ConversationJob, JobContext, JobOutcome, JobQueue, QueueStats } from '../../src/ports.js';
import { deferred, disposedAfterEach, sleep, waitFor } from './support.js';

export interface JobQueueUnderTest {
  queue: JobQueue;
  /** Close the queue (if the test did not) and remove whatever the adapter stored. */
  dispose: () => Promise<void>;
}

export type MakeJobQueue = (options: { attempts: number; backoffMs: number }) => Promise<JobQueueUnderTest>;

interface Call {
  job: ConversationJob;
  context: JobContext;
}

const DONE: JobOutcome = { kind: 'done' };

function job(messageId: string, conversationId = 'conversation-1'): ConversationJob {
  return { conversationId, messageId };
}

async function idle(queue: JobQueue): Promise<boolean> {
  const stats = await queue.stats();
  return stats.waiting === 0 && stats.active === 0 && stats.delayed === 0;
}

export function jobQueueContract(name: string, makeQueue: MakeJobQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    const make = disposedAfterEach(makeQueue);

    /** A queue consuming with `handle`, recording every call. */
    async function consuming(
      options: { attempts?: number; backoffMs?: number; concurrency?: number },
      handle: (call: Call, calls: Call[]) => Promise<JobOutcome> = () => Promise.resolve(DONE),
      before: (queue: JobQueue) => Promise<void> = () => Promise.resolve(),
    ): Promise<{ queue: JobQueue; calls: Call[] }> {
      const { queue } = await make({ attempts: options.attempts ?? 3, backoffMs: options.backoffMs ?? 10 });
      const calls: Call[] = [];
      await before(queue);
      await queue.consume(
        async (received, context) => {
          const call = { job: received, context };
          calls.push(call);
          return handle(call, calls);
        },
        { concurrency: options.concurrency ?? 1 },
      );
      return { queue, calls };
    }

    it('runs an enqueued job once, with its data and the messageId as job id', async () => {
      const { queue, calls } = await consuming({ attempts: 3 }, undefined, (q) =>
        q.enqueue({ conversationId: 'c-1', messageId: 'm-1', requestId: 'req-1' }),
      );
      await waitFor(() => calls.length === 1, 'the job to run');
      await waitFor(() => idle(queue), 'the queue to be idle');
      await sleep(100);
      expect(calls).toEqual([
        {
          job: { conversationId: 'c-1', messageId: 'm-1', requestId: 'req-1' },
          context: { jobId: 'm-1', attempt: 1, maxAttempts: 3, signal: calls[0]?.context.signal },
        },
      ]);
      // The shutdown signal is given to the handler and not fired while the queue runs.
      expect(calls[0]?.context.signal).toBeInstanceOf(AbortSignal);
      expect(calls[0]?.context.signal?.aborted).toBe(false);
    });

    it('runs each of many fresh jobs enqueued at once exactly once, with its own data and delay', async () => {
      const { queue, calls } = await consuming({ concurrency: 10 });
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          queue.enqueue(
            { conversationId: `c-${i}`, messageId: `fresh-${i}`, requestId: `r-${i}` },
            { fresh: true, delayMs: i === 0 ? 300 : 0 },
          ),
        ),
      );
      await waitFor(() => calls.length === 30, 'all 30 jobs to run');
      expect(new Set(calls.map((c) => c.context.jobId)).size).toBe(30);
      for (const call of calls) {
        const i = call.job.messageId.slice('fresh-'.length);
        expect(call.job).toEqual({ conversationId: `c-${i}`, messageId: `fresh-${i}`, requestId: `r-${i}` });
      }
      // The delayed one ran last, after its delay, though it was added in the same batch as the others.
      expect(calls.at(-1)?.job.messageId).toBe('fresh-0');
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('runs a messageId enqueued twice while waiting only once', async () => {
      const { queue, calls } = await consuming({ concurrency: 1 }, undefined, async (q) => {
        await q.enqueue(job('m-1'));
        await q.enqueue(job('m-1'));
        await q.enqueue(job('m-2'));
      });
      await waitFor(() => calls.some((c) => c.job.messageId === 'm-2'), 'the later job to run');
      await waitFor(() => idle(queue), 'the queue to be idle');
      expect(calls.map((c) => c.job.messageId)).toEqual(['m-1', 'm-2']);
    });

    it('does not add a messageId again while its job is running', async () => {
      const release = deferred();
      const { queue, calls } = await consuming({}, async () => {
        await release.promise;
        return DONE;
      });
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 1, 'the job to start');
      await queue.enqueue(job('m-1'));
      release.resolve();
      await waitFor(() => idle(queue), 'the queue to be idle');
      await sleep(100);
      expect(calls).toHaveLength(1);
    });

    it('runs a messageId again when it is enqueued after its job completed', async () => {
      const { queue, calls } = await consuming({});
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 1, 'the first run');
      await waitFor(() => idle(queue), 'the queue to be idle');
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 2, 'the second run');
    });

    it('runs a messageId again when it is enqueued after its job failed for good', async () => {
      const { queue, calls } = await consuming({ attempts: 1 }, (_call, all) =>
        all.length === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(DONE),
      );
      await queue.enqueue(job('m-1'));
      await waitFor(async () => (await queue.stats()).failed === 1, 'the job to fail');
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 2, 'the second run');
      expect(calls[1]!.context.attempt).toBe(1);
    });

    it('never runs more than `concurrency` handlers at once', async () => {
      const release = deferred();
      let inFlight = 0;
      let most = 0;
      const { queue, calls } = await consuming({ concurrency: 3 }, async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await release.promise;
        inFlight -= 1;
        return DONE;
      });
      for (let i = 0; i < 8; i++) await queue.enqueue(job(`m-${i}`, `c-${i}`));
      await waitFor(() => inFlight === 3, 'three handlers to run');
      await sleep(150);
      expect(inFlight).toBe(3);
      release.resolve();
      await waitFor(() => calls.length === 8, 'every job to run');
      expect(most).toBe(3);
    });

    it('holds a delayed job until its delay has passed', async () => {
      const { queue, calls } = await consuming({});
      await queue.enqueue(job('m-1'), { delayMs: 600 });
      await sleep(200);
      expect(calls).toHaveLength(0);
      expect((await queue.stats()).delayed).toBe(1);
      await waitFor(() => calls.length === 1, 'the delayed job to run');
    });

    it("runs a job that answered 'later' again without counting an attempt", async () => {
      const script: (() => Promise<JobOutcome>)[] = [
        () => Promise.resolve({ kind: 'later', delayMs: 30 }),
        () => Promise.reject(new Error('transient')),
        () => Promise.resolve({ kind: 'later', delayMs: 30 }),
        () => Promise.resolve(DONE),
      ];
      const { queue, calls } = await consuming({ attempts: 2 }, (_call, all) => script[all.length - 1]!());
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 4, 'four runs');
      await waitFor(() => idle(queue), 'the queue to be idle');
      expect(calls.map((c) => c.context.attempt)).toEqual([1, 1, 2, 2]);
      expect((await queue.stats()).failed).toBe(0);
    });

    it('retries a failing job with attempts numbered 1..n, then counts it failed', async () => {
      const { queue, calls } = await consuming({ attempts: 3, backoffMs: 10 }, () =>
        Promise.reject(new Error('always fails')),
      );
      await queue.enqueue(job('m-1'));
      await waitFor(async () => (await queue.stats()).failed === 1, 'the job to fail for good');
      await sleep(150);
      expect(calls.map((c) => [c.context.attempt, c.context.maxAttempts])).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
    });

    it('retries a retryable AppError', async () => {
      const { queue, calls } = await consuming({ attempts: 3 }, (_call, all) =>
        all.length === 1 ? Promise.reject(new AppError('ai_timeout', 'slow model')) : Promise.resolve(DONE),
      );
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 2, 'the retry');
      await waitFor(() => idle(queue), 'the queue to be idle');
      expect((await queue.stats()).failed).toBe(0);
    });

    it('does not retry an AppError that is not retryable', async () => {
      const { queue, calls } = await consuming({ attempts: 3 }, () =>
        Promise.reject(new AppError('ai_auth', 'bad key')),
      );
      await queue.enqueue(job('m-1'));
      await waitFor(async () => (await queue.stats()).failed === 1, 'the job to fail');
      await sleep(150);
      expect(calls).toHaveLength(1);
    });

    it('close() waits for a running handler to finish', async () => {
      let finished = false;
      const { queue, calls } = await consuming({}, async () => {
        await sleep(300);
        finished = true;
        return DONE;
      });
      await queue.enqueue(job('m-1'));
      await waitFor(() => calls.length === 1, 'the handler to start');
      await queue.close();
      expect(finished).toBe(true);
      await queue.close();
    });

    it('counts waiting, active, delayed and failed jobs', async () => {
      const release = deferred();
      const { queue } = await make({ attempts: 1, backoffMs: 10 });
      await queue.enqueue(job('m-1', 'c-1'));
      await queue.enqueue(job('m-2', 'c-2'));
      await queue.enqueue(job('m-3', 'c-3'), { delayMs: 60_000 });
      expect(await queue.stats()).toEqual<QueueStats>({ waiting: 2, active: 0, delayed: 1, failed: 0 });
      await queue.consume(
        async (received) => {
          if (received.messageId === 'm-1') throw new AppError('invalid_input', 'cannot process');
          await release.promise;
          return DONE;
        },
        { concurrency: 1 },
      );
      await waitFor(async () => {
        const stats = await queue.stats();
        return stats.failed === 1 && stats.active === 1;
      }, 'the first job to fail and the second to run');
      expect(await queue.stats()).toEqual<QueueStats>({ waiting: 0, active: 1, delayed: 1, failed: 1 });
      release.resolve();
      await waitFor(async () => (await queue.stats()).active === 0, 'the second job to finish');
    });
  });
}
