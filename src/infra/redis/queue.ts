/**
 * JobQueue on BullMQ. The job id is the inbound message id, so a re-enqueue of a job that is still waiting,
 * delayed or active is a no-op. Finished jobs must not block a later enqueue of the same id (BullMQ ignores an
 * `add` whose id still exists, completed or failed: bullmq#941): completed jobs are removed at once, and a
 * failed job kept for inspection is removed before its id is enqueued again.
 *
 * Crash recovery: a worker holds a lock on each active job for LOCK_DURATION_MS and renews it every half of that.
 * If the process dies, the lock expires and a stalled check in any live worker (every STALLED_INTERVAL_MS) puts
 * the job back in the wait list, without counting an attempt; a killed worker's job runs again within about a
 * minute. A job that stalls more than MAX_STALLED_COUNT times (it keeps killing its worker) fails for good.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import type { ConversationJob, JobHandler, JobQueue, QueueStats } from '../../ports.js';
import { isFinalError, retryDelayMs } from '../backoff.js';
import { createRedis, logConnectionErrors, waitForRedis } from './connect.js';

const LOCK_DURATION_MS = 30_000;
const STALLED_INTERVAL_MS = 30_000;
const MAX_STALLED_COUNT = 2;
/** Failed jobs stay a week (at most 5000) for inspection, then BullMQ trims them. */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 5000 };
const JOB_NAME = 'conversation';
/** How long the first enqueue after boot waits for the connection. */
const CONNECT_WAIT_MS = 2000;
const BACKOFF_TYPE = 'app';

export interface RedisQueueOptions {
  url: string;
  prefix: string;
  queueName?: string;
  attempts: number;
  backoffMs: number;
  /** How long close() waits for running handlers before it drops the connections (the jobs then stall and rerun). */
  shutdownTimeoutMs?: number;
  /** QUEUE_LOCK_DURATION_MS and QUEUE_STALLED_INTERVAL_MS: how soon a dead worker's job runs again. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: Logger;
}

export function createRedisQueue(options: RedisQueueOptions): JobQueue {
  const queueName = options.queueName ?? 'conversations';
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const log = options.log;
  const commands = createRedis(options.url, { purpose: 'commands', ...(log ? { log } : {}) });
  let producer: Promise<Queue<ConversationJob>> | undefined;
  let worker: Worker<ConversationJob> | undefined;
  let workerRedis: Redis | undefined;
  let closing: Promise<void> | undefined;
  // Fired when close() stops waiting for running handlers: their jobs will run again elsewhere, so they must not
  // start a model call or a send after that.
  const shutdown = new AbortController();
  // Only the very first connection is waited for; afterwards (up, or given up on once) we fail at once.
  let waitForBoot = true;
  commands.once('ready', () => {
    waitForBoot = false;
  });

  /**
   * The BullMQ Queue, created on first use once the connection is up. Created while Redis is down, BullMQ's
   * connection setup fails once and stays failed; so we only build it on a ready client, and drop it if its
   * setup fails anyway, to build it again on the next call.
   */
  async function queue(): Promise<Queue<ConversationJob>> {
    if (closing) throw unavailable(new Error('queue closed'));
    if (commands.status !== 'ready') {
      // At boot the first connection may still be on its way: wait for it, briefly. Once Redis has been up,
      // a lost connection fails at once (the message is already stored; the scheduler re-enqueues it).
      if (!waitForBoot) throw unavailable(new Error(`redis ${commands.status}`));
      await waitForRedis(commands, CONNECT_WAIT_MS).catch((error: unknown) => {
        waitForBoot = false;
        throw unavailable(error);
      });
    }
    if (!producer) {
      const created = new Queue<ConversationJob>(queueName, {
        connection: commands,
        prefix: options.prefix,
        // Without this BullMQ waits for the connection to come back instead of failing the add.
        skipWaitingForReady: true,
        defaultJobOptions: {
          attempts: options.attempts,
          backoff: { type: BACKOFF_TYPE },
          removeOnComplete: true,
          removeOnFail: KEEP_FAILED,
        },
      });
      logConnectionErrors(created, log, 'bullmq:queue');
      const ready = created.waitUntilReady().then(() => created);
      producer = ready;
      ready.catch(() => {
        if (producer === ready) producer = undefined;
        void created.close().catch(() => undefined);
      });
    }
    return producer.catch((error: unknown) => {
      throw unavailable(error);
    });
  }

  return {
    async enqueue(job, enqueueOptions) {
      const q = await queue();
      try {
        // BullMQ's add is a no-op for an id it still holds; a finished one (a kept failed job) must go first.
        if (!enqueueOptions?.fresh) {
          const state = await q.getJobState(job.messageId);
          if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized')
            return;
          if (state === 'completed' || state === 'failed') await q.remove(job.messageId);
        }
        const { conversationId, messageId, requestId } = job;
        await q.add(
          JOB_NAME,
          { conversationId, messageId, requestId },
          { jobId: job.messageId, delay: Math.max(0, enqueueOptions?.delayMs ?? 0) },
        );
      } catch (error) {
        throw unavailable(error);
      }
    },

    consume(handler, consumeOptions) {
      if (closing) return Promise.reject(new Error('queue is closed'));
      if (worker) return Promise.reject(new Error('consume() may be called once per queue'));
      // The Worker uses this client for its commands (we close it) and a duplicate for blocking reads (it does).
      workerRedis = createRedis(options.url, { purpose: 'worker', ...(log ? { log } : {}) });
      worker = new Worker<ConversationJob>(queueName, processor(handler, options.attempts, shutdown.signal), {
        connection: workerRedis,
        prefix: options.prefix,
        concurrency: consumeOptions.concurrency,
        lockDuration: options.lockDurationMs ?? LOCK_DURATION_MS,
        stalledInterval: options.stalledIntervalMs ?? STALLED_INTERVAL_MS,
        maxStalledCount: MAX_STALLED_COUNT,
        settings: {
          backoffStrategy: (attemptsMade, _type, error) =>
            retryDelayMs(attemptsMade, options.backoffMs, error),
        },
      });
      logConnectionErrors(worker, log, 'bullmq:worker');
      worker.on('failed', (failedJob, error) => {
        // BullMQ emits 'failed' for every failed attempt; only a finished job has failed for good.
        const final = failedJob?.finishedOn !== undefined;
        const fields = { jobId: failedJob?.id, attemptsMade: failedJob?.attemptsMade, err: error };
        if (final) log?.warn(fields, 'conversation job failed for good');
        else log?.info(fields, 'conversation job failed; will retry');
      });
      // Does not wait for Redis: the worker starts taking jobs whenever its connection is up.
      return Promise.resolve();
    },

    async stats(): Promise<QueueStats> {
      const q = await queue();
      try {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
        return {
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      } catch (error) {
        throw unavailable(error);
      }
    },

    close() {
      closing ??= closeAll();
      return closing;
    },
  };

  async function closeAll(): Promise<void> {
    if (worker) {
      const finished = await settlesWithin(worker.close(), shutdownTimeoutMs);
      if (!finished) {
        log?.warn({ shutdownTimeoutMs }, 'handlers still running at shutdown; their jobs will be retried');
        shutdown.abort(new Error('the queue is shutting down'));
        await worker.disconnect().catch(() => undefined);
      }
    }
    const created = await producer?.catch(() => undefined);
    await settlesWithin(created?.close() ?? Promise.resolve(), 2000);
    await Promise.all([quit(commands), workerRedis && quit(workerRedis)]);
  }
}

/** Runs the handler on one BullMQ job and translates its outcome into what BullMQ understands. */
function processor(handler: JobHandler, defaultAttempts: number, signal: AbortSignal) {
  return async (job: Job<ConversationJob>, token?: string): Promise<void> => {
    const context = {
      jobId: job.id ?? job.data.messageId,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? defaultAttempts,
      signal,
    };
    let outcome;
    try {
      outcome = await handler(job.data, context);
    } catch (error) {
      if (isFinalError(error))
        throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
      // The original error reaches the backoff strategy, which reads its retryAfterSeconds.
      throw error instanceof Error ? error : new Error(String(error));
    }
    if (outcome.kind === 'later') {
      // moveToDelayed skips the attempt counter (BullMQ's skipAttempt); DelayedError tells the worker it moved.
      await job.moveToDelayed(Date.now() + Math.max(0, outcome.delayMs), token);
      throw new DelayedError();
    }
  };
}

/** QUIT when Redis answers; when it does not, QUIT would wait for a reconnect, so drop the socket instead. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await settlesWithin(redis.quit(), 2000);
  redis.disconnect();
}

function unavailable(cause: unknown): AppError {
  if (cause instanceof AppError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AppError('queue_unavailable', `job queue unavailable: ${reason}`, { cause });
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
