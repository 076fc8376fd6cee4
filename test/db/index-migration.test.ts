/**
 * The admin-query index migration can be done ahead of an upgrade: an operator of a large database creates
 * the indexes with CREATE INDEX CONCURRENTLY (docs/query-plans.md), which does not block writes, and the
 * migration's own statements (CREATE INDEX IF NOT EXISTS, run in the migrator's transaction) then find them
 * and do nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { databaseForFile } from '../helpers/database-for-file.js';

const MIGRATIONS = new URL('../../src/db/migrations/', import.meta.url);
const file = readdirSync(MIGRATIONS).find((name) => name.endsWith('_admin_query_indexes.sql'));
const statements = readFileSync(new URL(file ?? 'missing', MIGRATIONS), 'utf8')
  .split('--> statement-breakpoint')
  .map((statement) => statement.trim())
  .filter((statement) => statement !== '');

const database = databaseForFile();

function indexName(statement: string): string {
  const name = /"(\w+_idx)"/.exec(statement)?.[1];
  if (name === undefined) throw new Error(`no index name in ${statement}`);
  return name;
}

it('every statement of the migration is CREATE INDEX IF NOT EXISTS', () => {
  expect(statements.length).toBeGreaterThan(0);
  for (const statement of statements) expect(statement).toMatch(/^CREATE INDEX IF NOT EXISTS "\w+_idx" ON /);
});

it('indexes built by hand with CONCURRENTLY before the upgrade make the migration a no-op', async () => {
  const names = statements.map(indexName);
  for (const name of names) await database.pool.query(`drop index ${name}`);
  for (const statement of statements) {
    await database.pool.query(
      statement.replace('CREATE INDEX IF NOT EXISTS', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS'),
    );
  }
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    for (const statement of statements) await client.query(statement);
    await client.query('commit');
  } finally {
    client.release();
  }
  const valid = await database.pool.query<{ name: string }>(
    `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
     where c.relname = any($1) and i.indisvalid order by 1`,
    [names],
  );
  expect(valid.rows.map((row) => row.name)).toEqual([...names].sort());
});
