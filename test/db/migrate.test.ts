import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDb, type Database } from '../../src/db/connect.js';
import { runMigrations } from '../../src/db/migrate.js';
import { AppError } from '../../src/domain/errors.js';
import { createEmptyTestDatabase } from '../helpers/database.js';
import { rows } from './fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(): Promise<string> {
  const empty = await createEmptyTestDatabase();
  cleanups.push(() => empty.drop());
  return empty.url;
}

async function connect(url: string): Promise<Database> {
  const database = await connectDb({ kind: 'postgres', url, poolSize: 2 });
  cleanups.push(() => database.close());
  return database;
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    return result.rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

const TABLES = [
  'admin_sessions',
  'admin_users',
  'ai_configurations',
  'api_tokens',
  'audit_log',
  'business_numbers',
  'conversation_notes',
  'conversations',
  'deliveries',
  'delivery_events',
  'messages',
  'model_calls',
  'opt_outs',
  'spend_alerts',
  'spend_daily',
  'webhook_logs',
];

describe('runMigrations', () => {
  it('creates every table on an empty database, then applies nothing the second time', async () => {
    const url = await freshDatabase();
    const database = await connect(url);
    const first = await runMigrations(database);
    expect(first.applied).toBeGreaterThan(0);
    expect(await tables(url)).toEqual(TABLES);
    expect(await runMigrations(database)).toEqual({ applied: 0 });
  });

  it('two processes migrating a fresh database at once both succeed and apply the migrations once', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const results = await Promise.all([runMigrations(a), runMigrations(b)]);
    const applied = results.map((r) => r.applied).sort();
    expect(applied[0]).toBe(0);
    expect(applied[1]).toBeGreaterThan(0);
    const ledger = await a.db.execute('select count(*)::int as n from drizzle.__drizzle_migrations');
    expect(rows<{ n: number }>(ledger)).toEqual([{ n: applied[1] }]);
  });

  it('refuses a database migrated by a newer release', async () => {
    const url = await freshDatabase();
    const database = await connect(url);
    await runMigrations(database);
    await database.db.execute(
      `insert into drizzle.__drizzle_migrations (hash, created_at) values ('from-the-future', ${Date.now() + 86_400_000})`,
    );
    const refusal = runMigrations(database);
    await expect(refusal).rejects.toBeInstanceOf(AppError);
    await expect(refusal).rejects.toThrow(/newer release/);
    // The refusal released the lock: a later run is not stuck behind it.
    await expect(runMigrations(database)).rejects.toThrow(/newer release/);
  });
});

describe('connectDb', () => {
  it('fails at connect with database_unavailable when PostgreSQL is not there', async () => {
    const attempt = connectDb({
      kind: 'postgres',
      url: 'postgresql://postgres@127.0.0.1:1/none',
      poolSize: 1,
    });
    await expect(attempt).rejects.toMatchObject({ kind: 'database_unavailable', retryable: true });
  });

  it('ping answers while connected and fails once closed', async () => {
    const database = await connectDb({ kind: 'postgres', url: await freshDatabase(), poolSize: 1 });
    await expect(database.ping()).resolves.toBeUndefined();
    await database.close();
    await expect(database.ping()).rejects.toMatchObject({ kind: 'database_unavailable' });
  });
});

describe('runMigrations on another application database', () => {
  it('refuses before creating anything, naming the tables that are in the way', async () => {
    const url = await freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      'create table messages (id int); create table orders (id int); create table users (id int)',
    );
    await client.end();
    const database = await connect(url);
    const refused = await runMigrations(database).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).kind).toBe('config');
    expect((refused as AppError).message).toContain('"messages"');
    expect((refused as AppError).message).not.toContain('"orders"');
    // Nothing of ours was created: not the ledger's schema, not a table.
    expect(await tables(url)).toEqual(['messages', 'orders', 'users']);
    const schemas = new pg.Client({ connectionString: url });
    await schemas.connect();
    const drizzle = await schemas.query("select 1 from pg_namespace where nspname = 'drizzle'");
    await schemas.end();
    expect(drizzle.rowCount).toBe(0);
  });
});
