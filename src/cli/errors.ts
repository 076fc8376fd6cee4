import { ConfigError } from '../config/load.js';
import { isAppError } from '../domain/errors.js';
import { FieldKeyError } from '../security/field-encryption.js';

/** Exit codes of `chatbot`: 0 ok, 1 the operation failed, 2 bad usage, bad value or bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An error whose message is the whole story for the operator, with the exit code to leave with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad flags or values: exit 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** The exit code for an error thrown by a command (commander's own are handled by the entry). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConfigError || error instanceof FieldKeyError) return EXIT.usage;
  // A bad value is a usage problem; a taken name is a failed operation.
  if (isAppError(error) && error.kind === 'invalid_input' && error.code !== 'already_exists')
    return EXIT.usage;
  return EXIT.failure;
}

/** The message to print, with a hint for the one database error an operator meets first: no tables yet. */
export function messageFor(error: unknown): string {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '42P01') {
      return 'the database has no tables yet: run `chatbot migrate` first';
    }
  }
  return error instanceof Error ? error.message : String(error);
}
