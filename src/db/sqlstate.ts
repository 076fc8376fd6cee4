import { AppError, isAppError } from '../domain/errors.js';

/**
 * PostgreSQL answers with a five-character SQLSTATE. Class 22 (data exception), 23 (integrity constraint) and 42
 * (syntax or access rule) mean the statement was refused for what it carried: the database is up, and retrying
 * the same statement gives the same answer. Telling these apart from a connection failure keeps a bad value or a
 * bug from being reported (and alerted) as "database down".
 */
/** The SQLSTATE somewhere down the cause chain (drivers and query builders wrap the server's error). */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    // Five characters with a digit: errno codes such as EPIPE are not SQLSTATEs.
    if (typeof code === 'string' && /^(?=.*\d)[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * A failed database call as the error handler should see it: "database unavailable" (retryable, CRITICAL)
 * unless PostgreSQL answered and refused the statement itself (bad data, a constraint, a bug in the SQL), which
 * is an internal error. Errors that are already AppErrors pass through.
 */
export function asDatabaseError(error: unknown, what: string): AppError {
  if (isAppError(error)) return error;
  return new AppError(isRefusal(error) ? 'internal' : 'database_unavailable', what, { cause: error });
}

/**
 * PostgreSQL answered and refused the statement for what it carried (SQLSTATE class 22, 23 or 42): the same
 * statement will be refused again. Anything else (no answer, 08 connection, 57P01 shutdown, 53300 too many
 * connections, 40001 serialization) may succeed later.
 */
export function isRefusal(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && (/^2[23]/.test(code) || code.startsWith('42'));
}
