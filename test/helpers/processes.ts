/**
 * The app's real entry points (src/main/web.ts, worker.ts, scheduler.ts) as child processes, for tests that
 * kill, signal or cut off a process for real. Each child is `node --import tsx <entry>`: one process, so a
 * SIGKILL hits the app itself (the tsx CLI would run the app in a grandchild that outlives it).
 * stdout (JSON log lines) and stderr are kept for assertions and printed when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { BUSINESS_NUMBER } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TEST_REDIS_URL } from './services.js';
import { freePort } from './tcp-proxy.js';
import { formBody, signParams } from './twilio.js';

export type ProcessRole = 'web' | 'worker' | 'scheduler';

/** One parsed pino line (level 30 info, 40 warn, 50 error, 60 fatal). */
export interface LogLine {
  level: number;
  msg: string;
  pid: number;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  readonly role: ProcessRole;
  readonly name: string;
  readonly pid: number;
  /** Every JSON log line so far. */
  readonly logs: LogLine[];
  /** Every raw line of stdout and stderr so far. */
  readonly output: string[];
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** How it exited, once it has; undefined while it runs. */
  readonly exit: Exit | undefined;
  /** Resolves once the app logged that it is ready; rejects if it exits first or after timeoutMs. */
  ready(timeoutMs?: number): Promise<void>;
  /** The first log line (past or future) that matches; rejects if the process exits first or after timeoutMs. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<Exit>;
  /** Cleanup: SIGTERM, then SIGKILL after graceMs if it is still there. */
  stop(graceMs?: number): Promise<Exit>;
}

const ENTRY: Record<ProcessRole, string> = {
  web: fileURLToPath(new URL('../../src/main/web.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../../src/main/worker.ts', import.meta.url)),
  scheduler: fileURLToPath(new URL('../../src/main/scheduler.ts', import.meta.url)),
};
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Start-up includes compiling the app with tsx; on a loaded CI machine that takes seconds. */
const READY_TIMEOUT_MS = 30_000;

/** Start one role of the app with exactly `env` (plus PATH/HOME): nothing is read from the test's environment. */
export function spawnRole(role: ProcessRole, env: Record<string, string>, name: string = role): AppProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY[role]], {
    cwd: ROOT,
    env: { ...inherited(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${name} process`);
  const logs: LogLine[] = [];
  const output: string[] = [];
  const listeners = new Set<() => void>();
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      for (const wake of listeners) wake();
    });
  });
  const collect = (stream: NodeJS.ReadableStream | null, source: 'out' | 'err') => {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        output.push(source === 'err' ? `[stderr] ${line}` : line);
        const parsed = parseLine(line);
        if (parsed) logs.push(parsed);
      }
      if (lines.length > 0) for (const wake of listeners) wake();
    });
  };
  collect(child.stdout, 'out');
  collect(child.stderr, 'err');

  const waitForLog = (what: string, match: (line: LogLine) => boolean, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      const check = () => {
        const found = logs.find(match);
        if (found) {
          finish();
          resolve(found);
        } else if (exit) {
          finish();
          // The last lines say why (a port taken, a config refused): the test's report is all CI keeps.
          const tail = output.slice(-15).join('\n');
          reject(new Error(`${name} exited (${describeExit(exit)}) before logging ${what}:\n${tail}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${name} did not log ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  const handle: AppProcess = {
    role,
    name,
    pid: child.pid,
    logs,
    output,
    exited,
    get exit() {
      return exit;
    },
    ready: async (timeoutMs = READY_TIMEOUT_MS) => {
      await waitForLog(
        'that it is ready',
        (line) => line.msg.startsWith('whatsapp-ai-chatbot ready'),
        timeoutMs,
      );
    },
    waitForLog,
    signal: (signal) => {
      if (!exit) child.kill(signal);
    },
    kill: async () => {
      if (!exit) child.kill('SIGKILL');
      return exited;
    },
    stop: async (graceMs = 5000) => {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return handle;
}

function inherited(): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

function parseLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as Partial<LogLine>;
    return typeof value.level === 'number' && typeof value.msg === 'string' ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
}

// ── a whole deployment of child processes ─────────────────────────────────────────────────────────────────

export interface ProcessDeployment {
  /** The environment every child gets (before per-process overrides). */
  env: Record<string, string>;
  database: TestDatabase;
  twilio: FakeTwilio;
  llm: FakeLlm;
  /** Where the web process listens (its PORT and PUBLIC_BASE_URL). */
  webUrl: string;
  /** Start a role; `overrides` replace variables of `env` for this process only. */
  spawn(role: ProcessRole, overrides?: Record<string, string>, name?: string): AppProcess;
  /** Start a role and wait until it says it is ready. */
  start(role: ProcessRole, overrides?: Record<string, string>, name?: string): Promise<AppProcess>;
  /** Run SQL against the app's database. */
  query<Row extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
  /** POST a Twilio-signed form to the web process, as Twilio would. */
  postSigned(path: string, params: Record<string, string>, timeoutMs?: number): Promise<Response>;
  /** Print the output of every process started here (call it when a test failed). */
  printOutput(): void;
  /** Stop every process started here, the fakes, and drop the database. */
  close(): Promise<void>;
}

/**
 * A fresh database, a random Redis key prefix, fake Twilio and LLM servers, and the full environment the app's
 * processes need to run against them (as test/helpers/app.ts builds it for the in-process app). Every child
 * started through it is stopped by close(); printOutput() shows what they logged.
 */
export async function createProcessDeployment(env: Record<string, string> = {}): Promise<ProcessDeployment> {
  const database = await createTestDatabase();
  const twilio = await startFakeTwilio();
  const llm = await startFakeLlm();
  const port = await freePort();
  const webUrl = `http://127.0.0.1:${port}`;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const children: AppProcess[] = [];
  const fullEnv: Record<string, string> = {
    ENV_FILE: '/dev/null',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: webUrl,
    DATABASE_URL: database.url,
    DB_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: `test-${randomUUID()}`,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_WHATSAPP_NUMBER: BUSINESS_NUMBER,
    TWILIO_API_BASE_URL: twilio.url,
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test-key',
    AI_BASE_URL: llm.openaiBaseUrl,
    AI_MODEL: 'openai/gpt-test',
    JOB_BACKOFF_MS: '50',
    JOB_ATTEMPTS: '3',
    BURST_WINDOW_MS: '0',
    RATE_LIMIT_MAX_REQUESTS: '1000',
    METRICS_ENABLED: 'false',
    ...env,
  };
  const spawnOne = (role: ProcessRole, overrides: Record<string, string> = {}, name?: string) => {
    const child = spawnRole(role, { ...fullEnv, ...overrides }, name ?? `${role}#${children.length + 1}`);
    children.push(child);
    return child;
  };
  return {
    env: fullEnv,
    database,
    twilio,
    llm,
    webUrl,
    spawn: spawnOne,
    async start(role, overrides, name) {
      const child = spawnOne(role, overrides, name);
      await child.ready();
      return child;
    },
    query: async <Row extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
      (await pool.query<Row>(text, values)).rows,
    printOutput() {
      for (const child of children) {
        const lines = child.output.slice(-300).join('\n');
        console.log(`──── ${child.name} (pid ${child.pid}) ────\n${lines}`);
      }
    },
    postSigned: (path, params, timeoutMs = 10_000) =>
      fetch(`${webUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signParams(twilio.authToken, `${webUrl}${path}`, params),
        },
        body: formBody(params),
        signal: AbortSignal.timeout(timeoutMs),
      }),
    async close() {
      await Promise.all(children.map((child) => child.stop()));
      await pool.end();
      await Promise.all([twilio.close(), llm.close()]);
      await database.close();
    },
  };
}
