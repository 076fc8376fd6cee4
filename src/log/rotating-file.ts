/**
 * A log file that rotates by size the way the original system's Python RotatingFileHandler did: the current
 * file keeps its name (`whatsapp_chatbot.log`), full files move to `.1`, `.2` … `.<keep>` and the oldest is
 * dropped. pino-roll was the other candidate, but it always numbers the current file (`x.1.log`), so tools and
 * people tailing the old names would lose it.
 *
 * Writes go through pino's own buffered, non-blocking file stream (sonic-boom). The shift is a few renames:
 * bytes still in flight land in the renamed file (its descriptor follows it), then the stream reopens the name.
 * Several processes sharing one file would each rotate it: give each process its own LOG_DIR.
 */
import { existsSync, renameSync, statSync } from 'node:fs';
import { pino } from 'pino';

export interface RotatingFileOptions {
  path: string;
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

export type RotatingFile = ReturnType<typeof pino.destination>;

export function createRotatingFile(options: RotatingFileOptions): RotatingFile {
  const { path, maxBytes, keep } = options;
  const stream = pino.destination({ dest: path, mkdir: true, sync: false });
  let size = existsSync(path) ? statSync(path).size : 0;
  let warned = false;

  stream.on('write', (bytes: number) => {
    size += bytes;
    if (size < maxBytes) return;
    size = 0;
    try {
      shift(path, keep);
      stream.reopen();
    } catch (error) {
      report(error);
    }
  });
  // A full disk or a removed directory must not take the process down with it: say so once, keep running.
  stream.on('error', report);
  return stream;

  function report(error: unknown): void {
    if (warned) return;
    warned = true;
    process.stderr.write(`log file ${path}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** path.(keep-1) → path.keep, …, path → path.1 (overwriting the oldest). */
function shift(path: string, keep: number): void {
  for (let index = keep - 1; index >= 0; index--) {
    const from = index === 0 ? path : `${path}.${index}`;
    if (existsSync(from)) renameSync(from, `${path}.${index + 1}`);
  }
}
