/**
 * Applies the committed SQL migrations. Drizzle's migrate() takes no lock (drizzle-orm#874): two processes
 * starting together would both apply the same migration, so it runs here under a PostgreSQL advisory lock held
 * on one connection. A database migrated by a newer release is refused instead of being run against.
 */
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles, type MigrationConfig } from 'drizzle-orm/migrator';
import { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { Database, Db } from './connect.js';
import { rowsOf } from './rows.js';

/** Drizzle's default ledger: drizzle.__drizzle_migrations(id, hash, created_at = the journal's `when`). */
const MIGRATIONS: MigrationConfig = {
  migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)),
  migrationsSchema: 'drizzle',
  migrationsTable: '__drizzle_migrations',
};

/** Arbitrary but fixed: every process of this application agrees on it. */
const MIGRATION_LOCK_KEY = 7_318_204_551_902;

export async function runMigrations(database: Database, log?: Logger): Promise<{ applied: number }> {
  const known = readMigrationFiles(MIGRATIONS);
  return database.withConnection(async (db) => {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      const before = await appliedMigrations(db);
      refuseNewerSchema(before, new Set(known.map((m) => m.folderMillis)));
      if (before.length === 0) await refuseForeignTables(db, tablesCreatedBy(known));
      await migrate(db);
      const applied = (await appliedMigrations(db)).length - before.length;
      log?.info(
        { applied, known: known.length },
        applied > 0 ? 'database migrated' : 'database schema up to date',
      );
      return { applied };
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}

/** Drizzle's migrator for the driver behind `db`; PGlite's is loaded only when PGlite is in use. */
async function migrate(db: Db): Promise<void> {
  if (db instanceof NodePgDatabase) return migratePg(db, MIGRATIONS);
  const [{ PgliteDatabase }, { migrate: migratePglite }] = await Promise.all([
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (db instanceof PgliteDatabase) return migratePglite(db, MIGRATIONS);
  throw new AppError('internal', 'runMigrations: unsupported database driver');
}

/** The `when` (ms) of each migration recorded in the ledger; none before the first run. */
async function appliedMigrations(db: Db): Promise<number[]> {
  const ledger = `${MIGRATIONS.migrationsSchema ?? 'drizzle'}.${MIGRATIONS.migrationsTable ?? '__drizzle_migrations'}`;
  const exists = rowsOf<{ present: boolean }>(
    await db.execute(sql`select to_regclass(${ledger}) is not null as present`),
  );
  if (exists[0]?.present !== true) return [];
  const rows = rowsOf<{ created_at: string | number }>(
    await db.execute(sql.raw(`select created_at from ${ledger} order by created_at`)),
  );
  return rows.map((row) => Number(row.created_at));
}

/** The tables our migrations create, read from their SQL (so the list never falls behind the schema). */
function tablesCreatedBy(migrations: ReturnType<typeof readMigrationFiles>): string[] {
  const names = migrations.flatMap((m) =>
    m.sql.flatMap((statement) =>
      [...statement.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"([^"]+)"/gi)].map((match) => match[1] ?? ''),
    ),
  );
  return [...new Set(names)].filter(Boolean);
}

/**
 * A database without our ledger that already holds a table of one of our names belongs to someone else (another
 * application, a half-restored dump): migrating would fail half-way on its first CREATE TABLE, or worse, run
 * beside its data. Refused before anything is created, naming the tables.
 */
async function refuseForeignTables(db: Db, ours: string[]): Promise<void> {
  const found = rowsOf<{ name: string }>(
    await db.execute(sql`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname in (${sql.join(
        ours.map((name) => sql`${name}`),
        sql`, `,
      )})
      order by c.relname`),
  ).map((row) => row.name);
  if (found.length === 0) return;
  throw new AppError(
    'config',
    `The database already holds ${found.length === 1 ? 'a table' : 'tables'} named ${found.map((n) => `"${n}"`).join(', ')} ` +
      'that this application did not create (its migrations were never run here): it looks like another ' +
      "application's database. Point DATABASE_URL at an empty database of its own; nothing was changed.",
  );
}

function refuseNewerSchema(applied: number[], known: Set<number>): void {
  const unknown = applied.filter((when) => !known.has(when));
  if (unknown.length === 0) return;
  throw new AppError(
    'config',
    `The database has ${unknown.length} migration(s) that this version of the application does not know ` +
      `(${applied.length} applied, ${known.size} known): it was migrated by a newer release. ` +
      'Run that release, or restore a backup taken before the upgrade; refusing to start against a newer schema.',
  );
}
