/**
 * A fresh, migrated PostgreSQL database per test file (or per test): created through the admin URL with a
 * random name, dropped again by close(). Tests never share rows, so they can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectDb, type Database } from '../../src/db/connect.js';
import { runMigrations } from '../../src/db/migrate.js';
import { TEST_DATABASE_ADMIN_URL } from './services.js';

export interface TestDatabase {
  /** Connection URL of the new database, for code under test that connects on its own. */
  url: string;
  database: Database;
  /** Closes the connections and drops the database. */
  close(): Promise<void>;
}

/** An empty database (no migrations run), for tests of the migrator itself. */
export async function createEmptyTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const empty = await createEmptyTestDatabase();
  let database: Database | undefined;
  try {
    database = await connectDb({ kind: 'postgres', url: empty.url, poolSize: 10 });
    await runMigrations(database);
  } catch (error) {
    await database?.close();
    await empty.drop();
    throw error;
  }
  const opened = database;
  return {
    url: empty.url,
    database: opened,
    async close() {
      await opened.close();
      await empty.drop();
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
