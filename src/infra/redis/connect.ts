/**
 * ioredis clients, created once per process. Two kinds, because the two callers want opposite things when Redis
 * is down: the webhook's hot path must fail at once (it still stores the message; the scheduler re-enqueues it
 * later), while BullMQ's worker connections must wait and retry forever (BullMQ requires it for blocking reads).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../log.js';
import { connectionOptions } from './address.js';

export type RedisPurpose = 'commands' | 'worker';

/** How long a hot-path command may wait for Redis before the caller gets an error. */
const FAIL_FAST_MS = 2000;
/** At most one "Redis unreachable" line per this interval per client; an outage would otherwise log ~20 lines a second. */
const ERROR_LOG_INTERVAL_MS = 10_000;

const OPTIONS: Record<RedisPurpose, RedisOptions> = {
  commands: {
    // No offline queue and one retry: a command issued while disconnected is rejected instead of parked.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: FAIL_FAST_MS,
    commandTimeout: FAIL_FAST_MS,
  },
  // BullMQ refuses worker connections that give up on a command; blocking reads must not time out either.
  worker: { maxRetriesPerRequest: null },
};

/** Reconnect forever, backing off to 2 s between tries, so either kind recovers by itself when Redis is back. */
function retryStrategy(times: number): number {
  return Math.min(times * 100, 2000);
}

/** A client for `url`: redis://, rediss://, or redis+sentinel:// (see address.ts). */
export function createRedis(url: string, options: { purpose: RedisPurpose; log?: Logger }): Redis {
  const settings = { ...OPTIONS[options.purpose], retryStrategy };
  const target = connectionOptions(url);
  const redis =
    'url' in target
      ? new Redis(target.url, settings)
      : new Redis({ ...target.options, ...settings, sentinelRetryStrategy: retryStrategy });
  logConnectionErrors(redis, options.log, `redis:${options.purpose}`);
  return redis;
}

interface ErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * An 'error' listener that logs instead of crashing the process (an EventEmitter without one throws), at most
 * once per interval with the number of errors it kept quiet about.
 */
export function logConnectionErrors(source: ErrorSource, log: Logger | undefined, name: string): void {
  let lastLoggedAt = 0;
  let suppressed = 0;
  source.on('error', (error) => {
    const now = Date.now();
    if (now - lastLoggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    log?.warn({ err: error, source: name, suppressed }, 'redis connection error');
    lastLoggedAt = now;
    suppressed = 0;
  });
}

/** Resolves when the client can take commands; rejects after timeoutMs (for boot checks and tests). */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    function onReady(): void {
      clearTimeout(timer);
      resolve();
    }
    redis.once('ready', onReady);
  });
}

/** `prefix:part:part`, the one way every adapter names its keys. */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/:+$/, ''), ...parts].join(':');
}
