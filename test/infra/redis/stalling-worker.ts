/**
 * Child process for the crash-recovery test: consumes the queue named by the environment with a short lock,
 * prints "started <messageId>" when a handler begins, and never finishes it; the test then SIGKILLs this process.
 */
import { createRedisQueue } from '../../../src/infra/redis/queue.js';

const queue = createRedisQueue({
  url: process.env.STALL_REDIS_URL ?? '',
  prefix: process.env.STALL_PREFIX ?? '',
  attempts: 3,
  backoffMs: 10,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
});

await queue.consume(
  (job) => {
    process.stdout.write(`started ${job.messageId}\n`);
    return new Promise(() => undefined);
  },
  { concurrency: 1 },
);
