/** A logger configured like the app's (same redaction) whose every line the test can read back. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface CapturedLog {
  log: Logger;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown> & { level: number; msg?: string }>;
  /** Every line written so far, raw, one per line: what a log file would hold. */
  text(): string;
}

export function captureLog(level = 'trace'): CapturedLog {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level, destination: stream });
  return {
    log,
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown> & { level: number; msg?: string }),
    text: () => raw.join(''),
  };
}
