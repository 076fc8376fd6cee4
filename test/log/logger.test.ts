import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, LOG_FILE_KEEP, LOG_FILES } from '../../src/log.js';
import { eventually } from '../helpers/app.js';
import { captureLines } from './capture.js';

const SECRETS = {
  authToken: 'tw-auth-token-SECRET-1',
  apiKey: 'sk-live-SECRET-2',
  password: 'hunter2-SECRET-3',
  authorization: 'Bearer SECRET-4',
};

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatbot-logs-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The lines of a log file, [] until it exists (the files are opened and written asynchronously). */
const fileLines = <T>(dir: string, name: string): T[] => {
  try {
    return readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
};
const pause = () => new Promise((resolve) => setTimeout(resolve, 2));

describe('secrets in log lines', () => {
  it('never writes the values of authToken, apiKey, password or authorization, wherever they sit', () => {
    const sink = captureLines();
    const log = createLogger({ level: 'info', destination: sink.stream });
    log.info(
      { authToken: SECRETS.authToken, apiKey: SECRETS.apiKey, password: SECRETS.password },
      'top level',
    );
    log.info({ twilio: { authToken: SECRETS.authToken }, ai: { apiKey: SECRETS.apiKey } }, 'one level down');
    log.info(
      { config: { ai: { apiKey: SECRETS.apiKey }, db: { password: SECRETS.password } } },
      'two levels down',
    );
    log.info({ headers: { authorization: SECRETS.authorization } }, 'headers');
    log.info({ req: { headers: { authorization: SECRETS.authorization } } }, 'request');
    log.info({ authorization: SECRETS.authorization }, 'bare header');
    log.child({ area: 'ai' }).warn({ apiKey: SECRETS.apiKey }, 'from a child');

    const text = sink.text();
    for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
    expect(text.match(/\[redacted\]/g)).toHaveLength(11);
    expect(sink.lines().map((line) => line.msg)).toContain('two levels down');
  });
});

describe('per-area levels', () => {
  it('gives each area its own level, inherited by the loggers derived from it', () => {
    const sink = captureLines();
    const log = createLogger({
      level: 'info',
      areaLevels: { http: 'warn', ai: 'debug' },
      destination: sink.stream,
    });
    const http = log.child({ area: 'http' });
    const ai = log.child({ area: 'ai' });
    http.info('http info');
    http.warn('http warn');
    http.child({ requestId: 'r-1' }).info('http request info');
    ai.debug('ai debug');
    ai.child({ conversationId: 'c-1' }).debug('ai conversation debug');
    log.debug('root debug');
    log.child({ area: 'pipeline' }).debug('pipeline debug');
    log.child({ area: 'pipeline' }).info('pipeline info');

    expect(sink.lines().map((line) => line.msg)).toEqual([
      'http warn',
      'ai debug',
      'ai conversation debug',
      'pipeline info',
    ]);
  });
});

describe('log files in LOG_DIR', () => {
  it('writes every line to whatsapp_chatbot.log and only errors to errors.log, and still to the console', async () => {
    const dir = tempDir();
    const sink = captureLines();
    const log = createLogger({ level: 'info', dir, destination: sink.stream });
    log.child({ area: 'db' }).info('an info line');
    log.warn('a warning');
    log.error({ err: new Error('boom') }, 'an error line');
    log.fatal('a fatal line');

    const read = (name: string) => fileLines<{ msg: string }>(dir, name).map((line) => line.msg);
    await eventually('both files written', () =>
      Promise.resolve(
        read(LOG_FILES.errors).length === 2 && read(LOG_FILES.all).length === 4 ? true : undefined,
      ),
    );
    expect(read(LOG_FILES.all)).toEqual(['an info line', 'a warning', 'an error line', 'a fatal line']);
    expect(read(LOG_FILES.errors)).toEqual(['an error line', 'a fatal line']);
    expect(sink.lines()).toHaveLength(4);
  });

  it('rotates a full file to .1 … .5, keeps the current name and drops the oldest', async () => {
    const dir = tempDir();
    const log = createLogger({ level: 'info', dir, destination: captureLines().stream, fileMaxBytes: 2000 });
    const total = 400;
    for (let n = 0; n < total; n++) {
      log.info({ n }, 'line');
      // Let each write reach the file, so rotations happen as they would under a steady trickle.
      if (n % 10 === 9) await pause();
    }
    const numbers = (name: string) => fileLines<{ n: number }>(dir, name).map((line) => line.n);
    // Oldest first: .5, .4 … .1, then the current file.
    const ordered = [
      ...Array.from({ length: LOG_FILE_KEEP }, (_, i) => `${LOG_FILES.all}.${LOG_FILE_KEEP - i}`),
      LOG_FILES.all,
    ];
    const all = await eventually('the last line written and the current file open', () => {
      const lines = ordered.flatMap(numbers);
      return Promise.resolve(
        lines.at(-1) === total - 1 && existsSync(join(dir, LOG_FILES.all)) ? lines : undefined,
      );
    });

    const files = readdirSync(dir).filter((name) => name.startsWith(LOG_FILES.all));
    expect(files.sort()).toEqual([...ordered].sort());
    expect(all.at(-1)).toBe(total - 1);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(all[0]).toBeGreaterThan(0);
    for (const name of ordered.slice(0, -1))
      expect(readFileSync(join(dir, name)).length).toBeGreaterThanOrEqual(2000);
  });
});
