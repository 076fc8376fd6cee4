/**
 * Natural batching (no timer, no added latency under light load): one call runs at a time; items submitted
 * meanwhile wait and then go together as one call. Used where a round trip costs more than the work it carries
 * (an accept statement, a rate-limit script): under load many items share one round trip, one parse and one
 * commit, and the batch size follows the load by itself.
 *
 * One slow call (a lock wait, a stalled server) must not hold up everything behind it: when every running call
 * has taken `slowMs`, another lane opens, up to `maxLanes`. And when every lane is stuck (a server that accepts
 * connections but no longer answers), an item that has waited `maxWaitMs` without starting fails with
 * `timeoutError()`, as a call of its own would have failed on the client's own timeout; the queue stays bounded
 * by the arrival rate × maxWaitMs.
 */

export interface NaturalBatcherOptions<Item, Result> {
  /** Runs one batch; answers one outcome per item, in order: a result, or the Error that item failed with. */
  run(items: Item[]): Promise<(Result | Error)[]>;
  /** Calls at once however slow they are. */
  maxLanes: number;
  /** A further call may start only when every running one has taken this long. */
  slowMs: number;
  /** Items per call at most. */
  maxBatch: number;
  /** An item not started within this fails with timeoutError(). */
  maxWaitMs: number;
  timeoutError(): Error;
}

export interface NaturalBatcher<Item, Result> {
  submit(item: Item): Promise<Result>;
}

interface Waiting<Item, Result> {
  item: Item;
  /** performance.now() when submitted. */
  since: number;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export function naturalBatcher<Item, Result>(
  options: NaturalBatcherOptions<Item, Result>,
): NaturalBatcher<Item, Result> {
  const waiting: Waiting<Item, Result>[] = [];
  /** When each running call started (performance.now()). */
  const running = new Set<{ startedAt: number }>();
  let recheck: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;

  function mayStart(now: number): boolean {
    if (running.size === 0) return true;
    if (running.size >= options.maxLanes) return false;
    for (const call of running) if (now - call.startedAt < options.slowMs) return false;
    return true;
  }

  function pump(): void {
    let now = performance.now();
    while (waiting.length > 0 && mayStart(now)) {
      const batch = waiting.splice(0, options.maxBatch);
      const call = { startedAt: now };
      running.add(call);
      void settle(batch).finally(() => {
        running.delete(call);
        pump();
      });
      now = performance.now();
    }
    // Items left waiting behind slow calls: look again once those count as slow.
    if (waiting.length > 0 && recheck === undefined && running.size < options.maxLanes) {
      recheck = setTimeout(() => {
        recheck = undefined;
        pump();
      }, options.slowMs);
      recheck.unref();
    }
    scheduleExpiry();
  }

  /** One timer for the oldest waiting item (the queue is in arrival order), not one per item. */
  function scheduleExpiry(): void {
    const oldest = waiting[0];
    if (oldest === undefined || expiry !== undefined) return;
    const dueIn = Math.max(0, oldest.since + options.maxWaitMs - performance.now());
    expiry = setTimeout(() => {
      expiry = undefined;
      const now = performance.now();
      while (waiting.length > 0 && now - (waiting[0] as Waiting<Item, Result>).since >= options.maxWaitMs)
        (waiting.shift() as Waiting<Item, Result>).reject(options.timeoutError());
      scheduleExpiry();
    }, dueIn);
    expiry.unref();
  }

  async function settle(batch: Waiting<Item, Result>[]): Promise<void> {
    let outcomes: (Result | Error)[];
    try {
      outcomes = await options.run(batch.map((waiter) => waiter.item));
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    batch.forEach((waiter, index) => {
      const outcome = index < outcomes.length ? outcomes[index] : new Error('batch answered too few results');
      if (outcome instanceof Error) waiter.reject(outcome);
      else waiter.resolve(outcome as Result);
    });
  }

  return {
    submit(item) {
      return new Promise<Result>((resolve, reject) => {
        waiting.push({ item, since: performance.now(), resolve, reject });
        pump();
      });
    },
  };
}
