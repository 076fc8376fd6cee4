/**
 * The web process's memory of the messages it stored but could not queue (Redis down): it enqueues them again
 * itself as soon as the queue takes jobs, so they are answered within seconds of Redis coming back instead of
 * waiting for the scheduler's sweep (STRANDED_AFTER_SECONDS, then a round). The sweep stays the backstop: for a
 * web process that died with entries here, and for entries this bound had to drop.
 * While the queue is down an enqueue fails at once (the commands client has no offline queue), so a retry costs
 * nothing; one attempt every few hundred milliseconds to 2 s finds the queue back within that.
 */
import type { Logger } from '../log.js';
import type { ConversationJob, JobQueue } from '../ports.js';

export interface UnqueuedRetry {
  /** Remember a job the queue refused; it is enqueued again once the queue takes jobs. */
  add(job: ConversationJob): void;
  /** Jobs still waiting for the queue. */
  size(): number;
  /** Stop retrying (shutdown); what is left is the sweep's. */
  close(): void;
}

export interface UnqueuedRetryOptions {
  queue: Pick<JobQueue, 'enqueue'>;
  log: Logger;
  /** At most this many jobs are kept; beyond it the oldest are dropped (and logged). */
  maxEntries?: number;
  /** First retry after this long, doubling up to maxDelayMs while the queue keeps refusing. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** ~200 bytes each: 10,000 is 2 MB, about two minutes of webhooks at 80/s. */
const MAX_ENTRIES = 10_000;
const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 2000;
/** Enqueued together in one drain step: a backlog after a long outage goes out in seconds, not one by one. */
const PARALLEL = 16;
/** At most one "dropped" line per this interval; the line carries the count. */
const DROP_LOG_INTERVAL_MS = 10_000;

export function createUnqueuedRetry(options: UnqueuedRetryOptions): UnqueuedRetry {
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  const minDelayMs = options.minDelayMs ?? MIN_DELAY_MS;
  const maxDelayMs = options.maxDelayMs ?? MAX_DELAY_MS;
  const log = options.log;
  // Keyed by message id: a message is retried once however often it is added; Map keeps arrival order.
  const waiting = new Map<string, ConversationJob>();
  let delayMs = minDelayMs;
  let timer: NodeJS.Timeout | undefined;
  let draining = false;
  let closed = false;
  let dropped = 0;
  let droppedLoggedAt = 0;
  let since = 0;

  function schedule(): void {
    if (closed || timer || draining || waiting.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, delayMs);
    // A process that is otherwise done (shutting down) must not stay alive for a retry.
    timer.unref();
  }

  async function drain(): Promise<void> {
    draining = true;
    let requeued = 0;
    let failure: unknown;
    try {
      while (!closed && waiting.size > 0 && failure === undefined) {
        const batch: ConversationJob[] = [];
        for (const job of waiting.values()) if (batch.push(job) === PARALLEL) break;
        const results = await Promise.allSettled(
          // Not `fresh`: the sweep may have enqueued it meanwhile, or a failed job of its id may be kept.
          batch.map((job) => options.queue.enqueue(job)),
        );
        for (const [index, job] of batch.entries()) {
          const result = results[index];
          if (result?.status === 'fulfilled') {
            waiting.delete(job.messageId);
            requeued += 1;
          } else failure ??= result?.reason ?? new Error('no result');
        }
      }
    } finally {
      draining = false;
    }
    if (requeued > 0)
      log.info(
        { requeued, left: waiting.size, afterMs: Date.now() - since },
        'queue back: accepted messages that could not be queued are queued now',
      );
    if (failure === undefined) {
      delayMs = minDelayMs;
      return;
    }
    delayMs = Math.min(delayMs * 2, maxDelayMs);
    schedule();
  }

  return {
    add(job) {
      if (closed) return;
      if (waiting.size === 0 && !draining) since = Date.now();
      waiting.delete(job.messageId);
      waiting.set(job.messageId, job);
      if (waiting.size > maxEntries) {
        const oldest = waiting.keys().next().value;
        if (oldest !== undefined) waiting.delete(oldest);
        dropped += 1;
        const now = Date.now();
        if (now - droppedLoggedAt >= DROP_LOG_INTERVAL_MS) {
          log.warn(
            { dropped, maxEntries },
            'too many messages waiting for the queue: the oldest are no longer retried by this process; ' +
              'the scheduler enqueues them after STRANDED_AFTER_SECONDS',
          );
          droppedLoggedAt = now;
          dropped = 0;
        }
      }
      schedule();
    },
    size: () => waiting.size,
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      if (waiting.size > 0)
        log.warn(
          { unqueued: waiting.size },
          'shutting down with accepted messages not queued; the scheduler enqueues them after STRANDED_AFTER_SECONDS',
        );
    },
  };
}
