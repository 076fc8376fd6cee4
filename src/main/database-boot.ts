/**
 * PostgreSQL that does not answer when a process starts (it starts after us, it restarts, the network is not up
 * yet) is an outage, not a broken configuration: the process starts anyway, reports it as CRITICAL DATABASE,
 * its health check answers 503 naming the database, the webhook answers 503 so Twilio may retry, and once the
 * database answers the pending migrations run and everything works, without a restart.
 * A server that answered and refused us (wrong password, no such database) is a configuration error: the
 * caller fails the start, with the reason.
 */
import type { Database } from '../db/connect.js';
import { runMigrations } from '../db/migrate.js';
import { sqlState } from '../db/sqlstate.js';
import { isAppError } from '../domain/errors.js';
import type { ErrorReporter } from '../errors/reporter.js';
import type { Logger } from '../log.js';

export interface DatabaseBoot {
  /** True once the database answered and the migrations (if any were due) are applied. */
  ready(): boolean;
  /** Stop retrying (the process is shutting down). */
  stop(): void;
}

const RETRY_MS = 2000;
/** While waiting, one line about it per this interval, not one per try. */
const WAIT_LOG_MS = 30_000;

export async function bootDatabase(
  database: Database,
  options: { migrate: boolean; log: Logger; errors: ErrorReporter; retryMs?: number },
): Promise<DatabaseBoot> {
  const prepare = async () => {
    await database.ping();
    if (options.migrate || database.kind === 'pglite') await runMigrations(database, options.log);
  };
  try {
    await prepare();
    return { ready: () => true, stop: () => undefined };
  } catch (error) {
    if (database.kind !== 'postgres' || !notReached(error)) throw error;
    // One line an operator can act on (not the failed query and its stack): the alert says the same.
    const reason = new Error(
      `PostgreSQL (DATABASE_URL) does not answer: ${rootCause(error)}. Waiting for it; /health/ and the ` +
        'webhooks answer 503 until it is back, then pending migrations run and work goes on.',
      { cause: error },
    );
    await options.errors.report(reason, {
      severity: 'CRITICAL',
      category: 'DATABASE',
      context: { stage: 'start' },
      expected: true,
    });
  }
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ready = false;
  let loggedAt = Date.now();
  const retry = () => {
    prepare().then(
      () => {
        ready = true;
        options.log.info('the database answers again; migrations are applied and work goes on');
      },
      (error: unknown) => {
        if (stopped) return;
        if (Date.now() - loggedAt >= WAIT_LOG_MS) {
          loggedAt = Date.now();
          // Reached but refused (a migration failed, the login is refused now): a person must look.
          if (notReached(error)) options.log.warn({ err: error }, 'still waiting for the database');
          else void options.errors.report(error, { context: { stage: 'database retry' } });
        }
        timer = setTimeout(retry, options.retryMs ?? RETRY_MS);
        timer.unref();
      },
    );
  };
  timer = setTimeout(retry, options.retryMs ?? RETRY_MS);
  timer.unref();
  return {
    ready: () => ready,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The innermost cause's first line (`connect ECONNREFUSED 127.0.0.1:5432`), not the query that met it. */
function rootCause(error: unknown): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const message = inner instanceof Error ? inner.message : String(inner);
  return message.split('\n')[0] ?? message;
}

/** No PostgreSQL server answered at all (refused, timed out, no such host), or it is starting up (57P03). */
function notReached(error: unknown): boolean {
  if (!isAppError(error) || error.kind !== 'database_unavailable') return false;
  const code = sqlState(error);
  return code === undefined || code === '57P03';
}
