/**
 * Opens the database: PostgreSQL through one node-postgres pool in production, or PGlite (embedded, WASM)
 * in the zero-setup mode. Both run the same Drizzle code; nothing outside this file knows which one it is.
 */
import { mkdir } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Config } from '../config/load.js';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import { urlPassword } from '../security/url-password.js';
import { lockPgliteDir } from './pglite-lock.js';
import * as schema from './schema.js';

/** What every repository function takes: satisfied by both drizzle(node-postgres) and drizzle(pglite). */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** `select 1`; throws AppError('database_unavailable') when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs `work` on one connection held for its whole duration, which a session-level advisory lock needs
   * (migrate.ts). PGlite has a single connection, so there it is the same `db`.
   */
  withConnection<T>(work: (db: Db) => Promise<T>): Promise<T>;
}

const CONNECT_TIMEOUT_MS = 5000;

/** Connects and checks the database answers, so a wrong URL fails at boot rather than on the first webhook. */
export async function connectDb(settings: Config['database'], log?: Logger): Promise<Database> {
  const database = await openDatabase(settings, log);
  try {
    await database.ping();
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return database;
}

/**
 * The database without checking that it answers: PostgreSQL's pool connects on the first query. For a server
 * that starts before its database does and says so in its health check until then (main/database-boot.ts).
 */
export async function openDatabase(settings: Config['database'], log?: Logger): Promise<Database> {
  return settings.kind === 'postgres' ? connectPostgres(settings, log) : connectPglite(settings.dataDir);
}

function connectPostgres(settings: { url: string; poolSize: number }, log?: Logger): Database {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client that loses its server (restart, failover) emits 'error' on the pool; unhandled, it would
  // crash the process. The pool drops that client and the next query opens a new one.
  pool.on('error', (error) => log?.warn({ err: error }, 'idle database connection failed'));
  const db = drizzlePg({ client: pool, schema });
  // Kept out of error messages.
  const secret = urlPassword(settings.url);
  let closed = false;
  return {
    db,
    kind: 'postgres',
    ping: () => ping(db, secret),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    async withConnection(work) {
      const client = await pool.connect().catch((error: unknown) => {
        throw unavailable(error, secret);
      });
      try {
        return await work(drizzlePg({ client, schema }));
      } finally {
        client.release();
      }
    },
  };
}

async function connectPglite(dataDir: string): Promise<Database> {
  // Loaded only here, so a production process never pays for the WASM build.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  await mkdir(dataDir, { recursive: true });
  // Before opening: a second process on the same directory fails here, naming the one that has it.
  const lock = await lockPgliteDir(dataDir);
  let client: InstanceType<typeof PGlite>;
  try {
    client = await PGlite.create(dataDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const db = drizzlePglite({ client, schema });
  return {
    db,
    kind: 'pglite',
    ping: () => ping(db),
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        await lock.release();
      }
    },
    withConnection: (work) => work(db),
  };
}

async function ping(db: Db, secret?: string): Promise<void> {
  try {
    await db.execute(sql`select 1`);
  } catch (error) {
    throw unavailable(error, secret);
  }
}

function unavailable(cause: unknown, secret?: string): AppError {
  const root = rootCauseMessage(cause, secret);
  return new AppError('database_unavailable', `The database is not available${root ? `: ${root}` : ''}`, {
    cause,
  });
}

/**
 * The operator-facing reason behind a failed query: Drizzle wraps the driver's error in a two-line
 * "Failed query: select 1\nparams: " one, which says nothing; the innermost cause says what happened
 * (`connect ECONNREFUSED 127.0.0.1:5499`, `database "x" does not exist`, …). One line, never the password.
 */
function rootCauseMessage(error: unknown, secret?: string): string {
  let root: unknown = error;
  for (let depth = 0; depth < 10 && root instanceof Error && root.cause !== undefined; depth++)
    root = root.cause;
  let message: string;
  if (root instanceof AggregateError && root.errors.length > 0) {
    // Connecting to `localhost` tries ::1 and 127.0.0.1; node reports both in an AggregateError with an empty message.
    message = [
      ...new Set(root.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)))),
    ].join('; ');
  } else if (root instanceof Error) {
    const code = (root as { code?: unknown }).code;
    message = root.message || (typeof code === 'string' ? code : root.name);
  } else {
    message = typeof root === 'string' ? root : '';
  }
  message = message.replace(/\s*\n\s*/g, ' ').trim();
  if (secret) message = message.split(secret).join('***');
  return message;
}
