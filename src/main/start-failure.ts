/**
 * Failures at start that the operator fixes from one sentence: a port another process holds, a data directory
 * another server uses, a database that is someone else's. They are logged as that sentence (with the setting to
 * change), not as a stack trace; anything else stays a CRITICAL with its stack.
 */
import { isAppError } from '../domain/errors.js';

interface ListenError extends NodeJS.ErrnoException {
  port?: number;
  address?: string;
}

/** The sentence for a failure we expect, or null for one we do not. */
export function explainStartFailure(
  error: unknown,
  ports: { web: number | undefined; metrics: number | undefined },
): string | null {
  if (error instanceof Error && 'code' in error && 'syscall' in error && error.syscall === 'listen') {
    const failure = error as ListenError;
    const port = failure.port;
    const setting =
      port !== undefined && port === ports.metrics && port !== ports.web ? 'METRICS_PORT' : 'PORT';
    if (failure.code === 'EADDRINUSE')
      return `port ${port ?? '?'} is already in use (${setting}=${port ?? '?'}): stop the process that holds it, or set ${setting} to a free port.`;
    if (failure.code === 'EACCES')
      return `port ${port ?? '?'} needs privileges this process does not have (${setting}=${port ?? '?'}): use a port above 1023 behind a proxy.`;
    if (failure.code === 'EADDRNOTAVAIL')
      return `address ${failure.address ?? '?'} is not one of this machine's (HOST): use 0.0.0.0 or one of its addresses.`;
  }
  // Our own clear refusals at start: a data directory in use, another application's tables, a newer schema, a
  // login the database refused. Their message already says what to do.
  if (isAppError(error) && (error.kind === 'config' || error.kind === 'database_unavailable'))
    return error.message;
  return null;
}
