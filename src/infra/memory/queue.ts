/**
 * In-process JobQueue with the BullMQ adapter's contract: dedup by messageId while waiting, delayed or active;
 * FIFO; at most `concurrency` handlers at once; `later` re-runs without counting an attempt; failures retried
 * with the shared backoff rule; a non-retryable AppError fails at once. Jobs live only as long as the process:
 * the database is the truth, and the scheduler re-enqueues what a restart dropped. Timers are unref()ed so a
 * pending retry never keeps the process alive.
 */
import { AppError } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import type { ConversationJob, JobHandler, JobQueue } from '../../ports.js';
import { isFinalError, retryDelayMs } from '../backoff.js';
import type { Clock } from './clock.js';
import { jsonClone } from './clone.js';

interface Entry {
  job: ConversationJob;
  /** Attempts that ended in a throw; `later` does not count. */
  attemptsMade: number;
  state: 'waiting' | 'delayed' | 'active';
  timer?: NodeJS.Timeout;
}

export interface MemoryQueueOptions {
  attempts: number;
  backoffMs: number;
  shutdownTimeoutMs?: number;
  /**
   * Accepted for symmetry with the other memory adapters; delays run on Node timers (vitest's fake timers
   * control them), since a clock alone cannot fire a timer.
   */
  clock?: Clock;
  log?: Logger;
}

export function createMemoryQueue(options: MemoryQueueOptions): JobQueue {
  const { attempts, backoffMs, log } = options;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const entries = new Map<string, Entry>();
  const waiting: Entry[] = [];
  const running = new Set<Promise<void>>();
  let handler: JobHandler | undefined;
  let concurrency = 0;
  let failed = 0;
  let closing: Promise<void> | undefined;
  // Fired when close() stops waiting for running handlers: they must not start anything new after that.
  const shutdown = new AbortController();

  function schedule(entry: Entry, delayMs: number): void {
    // After close nothing runs again; the scheduler re-enqueues from the database after a restart.
    if (closing) return;
    entry.state = 'delayed';
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.state = 'waiting';
      waiting.push(entry);
      pump();
    }, delayMs);
    entry.timer.unref();
  }

  function pump(): void {
    while (handler && !closing && running.size < concurrency) {
      const entry = waiting.shift();
      if (!entry) return;
      const run: Promise<void> = execute(handler, entry).finally(() => {
        running.delete(run);
        pump();
      });
      running.add(run);
    }
  }

  async function execute(handle: JobHandler, entry: Entry): Promise<void> {
    entry.state = 'active';
    const { messageId } = entry.job;
    const context = {
      jobId: messageId,
      attempt: entry.attemptsMade + 1,
      maxAttempts: attempts,
      signal: shutdown.signal,
    };
    try {
      const outcome = await handle(jsonClone(entry.job), context);
      if (outcome.kind === 'later') {
        schedule(entry, Math.max(0, outcome.delayMs));
        return;
      }
      entries.delete(messageId);
    } catch (error) {
      entry.attemptsMade += 1;
      if (isFinalError(error) || entry.attemptsMade >= attempts) {
        entries.delete(messageId);
        failed += 1;
        log?.warn(
          { jobId: messageId, attemptsMade: entry.attemptsMade, err: error },
          'conversation job failed for good',
        );
        return;
      }
      log?.info(
        { jobId: messageId, attemptsMade: entry.attemptsMade, err: error },
        'conversation job failed; will retry',
      );
      schedule(entry, retryDelayMs(entry.attemptsMade, backoffMs, error));
    }
  }

  async function closeAll(): Promise<void> {
    for (const entry of entries.values()) clearTimeout(entry.timer);
    const drained = Promise.allSettled([...running]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log?.warn({ shutdownTimeoutMs }, 'handlers still running at shutdown; aborting them');
        shutdown.abort(new Error('the queue is shutting down'));
        resolve();
      }, shutdownTimeoutMs);
    });
    await Promise.race([drained, timeout]);
    clearTimeout(timer);
  }

  return {
    enqueue(job, enqueueOptions) {
      if (closing) return Promise.reject(new AppError('queue_unavailable', 'job queue is closed'));
      if (entries.has(job.messageId)) return Promise.resolve();
      const { conversationId, messageId, requestId } = job;
      const entry: Entry = {
        job: jsonClone({ conversationId, messageId, requestId }),
        attemptsMade: 0,
        state: 'waiting',
      };
      entries.set(job.messageId, entry);
      const delayMs = enqueueOptions?.delayMs ?? 0;
      if (delayMs > 0) schedule(entry, delayMs);
      else waiting.push(entry);
      pump();
      return Promise.resolve();
    },

    consume(handle, consumeOptions) {
      if (closing) return Promise.reject(new Error('queue is closed'));
      if (handler) return Promise.reject(new Error('consume() may be called once per queue'));
      handler = handle;
      concurrency = Math.max(1, consumeOptions.concurrency);
      pump();
      return Promise.resolve();
    },

    stats() {
      let delayed = 0;
      for (const entry of entries.values()) if (entry.state === 'delayed') delayed += 1;
      return Promise.resolve({ waiting: waiting.length, active: running.size, delayed, failed });
    },

    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}
