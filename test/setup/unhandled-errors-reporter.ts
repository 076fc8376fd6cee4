/**
 * Repeats each unhandled error of the run in a few plain lines after the summary. The default reporter prints
 * them above the summary, where a CI log cut to its last lines loses them; this keeps the cause on screen.
 */
import type { Reporter } from 'vitest/node';

type Unhandled = Parameters<NonNullable<Reporter['onTestRunEnd']>>[1][number];

function describeError(error: Unhandled): string {
  const record = error as Unhandled & { VITEST_TEST_PATH?: string; VITEST_TEST_NAME?: string; type?: string };
  const cause = (record as { cause?: { message?: string } }).cause?.message;
  const stack = (record.stack ?? '').split('\n').slice(1, 6).join('\n');
  return [
    `${record.type ?? 'Error'}: ${record.name} ${record.message}`.trim(),
    cause ? `  caused by: ${cause}` : '',
    record.VITEST_TEST_PATH ? `  in file: ${record.VITEST_TEST_PATH}` : '',
    record.VITEST_TEST_NAME ? `  latest test: ${record.VITEST_TEST_NAME}` : '',
    stack,
  ]
    .filter(Boolean)
    .join('\n');
}

export default class UnhandledErrorsReporter implements Reporter {
  onTestRunEnd(_modules: unknown, unhandledErrors: readonly Unhandled[]): void {
    if (unhandledErrors.length === 0) return;
    const lines = unhandledErrors.map(describeError).join('\n\n');
    process.stderr.write(`\nUnhandled errors of this run (${unhandledErrors.length}):\n${lines}\n`);
  }
}
