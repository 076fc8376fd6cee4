/** The in-memory adapters against the port contracts; their time is an injected clock the tests move forward. */
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { contextCacheContract } from '../contracts/context-cache.contract.js';
import { jobQueueContract } from '../contracts/job-queue.contract.js';
import { locksContract } from '../contracts/locks.contract.js';
import { rateLimiterContract } from '../contracts/rate-limiter.contract.js';

function manualClock(): { now: () => number; elapse: (ms: number) => Promise<void> } {
  let time = 1_700_000_000_000;
  return {
    now: () => time,
    elapse: (ms) => {
      time += ms;
      return Promise.resolve();
    },
  };
}

const nothing = (): Promise<void> => Promise.resolve();

jobQueueContract('memory', (options) => {
  const queue = createMemoryQueue(options);
  return Promise.resolve({ queue, dispose: () => queue.close() });
});
contextCacheContract('memory', (options) => {
  const clock = manualClock();
  return Promise.resolve({
    cache: createMemoryContextCache({ ...options, clock }),
    elapse: clock.elapse,
    dispose: nothing,
  });
});
locksContract('memory', () => {
  const clock = manualClock();
  return Promise.resolve({ locks: createMemoryLocks({ clock }), elapse: clock.elapse, dispose: nothing });
});
rateLimiterContract('memory', () => {
  const clock = manualClock();
  return Promise.resolve({
    limiter: createMemoryRateLimiter({ clock }),
    elapse: clock.elapse,
    dispose: nothing,
  });
});
