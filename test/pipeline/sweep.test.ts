/**
 * The scheduler's sweep reports an outage as what it is: a database it cannot reach is `database_unavailable`
 * (CRITICAL DATABASE for the error handler), Redis not answering is `queue_unavailable`, never a bare Error that
 * the handler could only file under SYSTEM with the failed SQL as its message.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import * as schema from '../../src/db/schema.js';
import { categorize } from '../../src/errors/categorize.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createRedis } from '../../src/infra/redis/connect.js';
import { createRedisLocks } from '../../src/infra/redis/locks.js';
import { silentLogger } from '../../src/log.js';
import { sweep } from '../../src/pipeline/sweep.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const settings = {
  strandedAfterMs: 60_000,
  sessionTimeoutMs: 60_000,
  webhookLogRetentionDays: 30,
  handoffIdleMs: 60_000,
  retentionDays: 0,
};
const context = createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 });
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

async function unreachableDb(): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/nothing`,
    connectionTimeoutMillis: 1000,
  });
  pools.push(pool);
  return drizzle({ client: pool, schema });
}

describe('sweep during an outage', () => {
  it('a database it cannot reach is database_unavailable (CRITICAL DATABASE), without the SQL in the message', async () => {
    const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
    const deps = {
      db: await unreachableDb(),
      queue,
      locks: createMemoryLocks(),
      log: silentLogger(),
      context,
      unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
      channelFor: () => undefined,
      settings: pipelineSettings(),
    };
    const failure = await sweep(deps, settings, 1000).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ kind: 'database_unavailable' });
    expect((failure as Error).message).not.toMatch(/select/i);
    expect(categorize(failure)).toMatchObject({ category: 'DATABASE', severity: 'CRITICAL' });
    await queue.close();
  });

  it('Redis not answering the sweep lock is queue_unavailable', async () => {
    const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
    // The real Redis locks, on a client whose Redis is not there.
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, { purpose: 'commands' });
    const deps = {
      db: await unreachableDb(),
      queue,
      locks: createRedisLocks(redis, { prefix: 'sweep-test' }),
      log: silentLogger(),
      context,
      unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
      channelFor: () => undefined,
      settings: pipelineSettings(),
    };
    await expect(sweep(deps, settings, 1000)).rejects.toMatchObject({ kind: 'queue_unavailable' });
    redis.disconnect();
    await queue.close();
  });
});
