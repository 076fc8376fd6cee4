/**
 * The real local services the bench runs on: a fresh PostgreSQL database `bench_<random>` (migrated, dropped at
 * the end) and a random Redis key prefix (its keys deleted at the end).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { connectDb } from '../src/db/connect.js';
import { runMigrations } from '../src/db/migrate.js';

export const ADMIN_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A new database with our schema; `drop()` removes it even while connections are open. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const drop = () => admin(`drop database if exists ${name} with (force)`);
  try {
    const database = await connectDb({ kind: 'postgres', url: url.toString(), poolSize: 2 });
    try {
      await runMigrations(database);
    } finally {
      await database.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url: url.toString(), drop };
}

export function randomPrefix(): string {
  return `bench-${randomBytes(6).toString('hex')}`;
}

/** Delete every key under `prefix:` (SCAN, not KEYS, so Redis is never blocked). */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Both services answer, or the bench stops before starting anything. */
export async function checkServices(): Promise<void> {
  const problems: string[] = [];
  await admin('select 1').catch((error: unknown) =>
    problems.push(`PostgreSQL at ${ADMIN_DATABASE_URL}: ${String(error)}`),
  );
  const redis = new Redis(REDIS_URL, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  await redis
    .connect()
    .then(() => redis.ping())
    .catch((error: unknown) => problems.push(`Redis at ${REDIS_URL}: ${String(error)}`));
  redis.disconnect();
  if (problems.length > 0) throw new Error(`the bench needs the real services:\n  ${problems.join('\n  ')}`);
}

/** Our BullMQ queue as the app names it ('conversations' under the key prefix), to pause, resume or empty it. */
export function openQueue(redisUrl: string, prefix: string): Queue {
  return new Queue('conversations', {
    connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
    prefix,
  });
}

export async function closeQueue(queue: Queue): Promise<void> {
  await queue.close();
  // A connection passed in is shared, so BullMQ leaves it open: it is ours to close.
  (queue.opts.connection as Redis).disconnect();
}

/**
 * Transactions committed in database `name` so far (each autocommitted statement is one). PostgreSQL publishes
 * these counters about once a second, so read them after a pause.
 */
export async function committedTransactions(name: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(
      'select xact_commit::text as n from pg_stat_database where datname = $1',
      [name],
    );
    return Number(result.rows[0]?.n ?? Number.NaN);
  } finally {
    await client.end();
  }
}
