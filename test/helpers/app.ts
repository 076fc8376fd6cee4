import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startRoles, type Role, type Running } from '../../src/main/run.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase } from './database.js';
import { TEST_REDIS_URL } from './services.js';
import { freePort } from './tcp-proxy.js';
import { formBody, signParams } from './twilio.js';

export const BUSINESS_NUMBER = 'whatsapp:+14155238886';

export interface TestApp {
  url: string;
  config: Config;
  running: Running;
  twilio: FakeTwilio;
  llm: FakeLlm;
  databaseUrl: string;
  /** Run SQL against the app's database, to check what it stored. */
  query<Row extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
  /** Post a Twilio-signed form to a path of the app, as Twilio would. */
  postSigned(
    path: string,
    params: Record<string, string>,
    options?: { signature?: string },
  ): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * The whole app (web + worker + scheduler, as `npm start` runs it) against the real PostgreSQL and Redis of
 * the machine, a fresh database and Redis prefix per app, with fake Twilio and LLM servers on 127.0.0.1.
 */
export async function startTestApp(
  env: Record<string, string> | ((defaults: { databaseUrl: string }) => Record<string, string>) = {},
  roles: Role[] = ['web', 'worker', 'scheduler'],
  /** The app's logger; tests that read the log lines pass one writing to a stream of theirs. */
  logger?: Logger,
  /** Options of the fake Twilio (further accounts, for numbers of another account). */
  twilioOptions?: Parameters<typeof startFakeTwilio>[0],
): Promise<TestApp> {
  const database = await createTestDatabase();
  const twilio = await startFakeTwilio(twilioOptions);
  const llm = await startFakeLlm();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: base,
    DATABASE_URL: database.url,
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
    SWEEP_INTERVAL_SECONDS: '1',
    // Each message answered at once and never rate limited, unless a test is about bursts or limits.
    BURST_WINDOW_MS: '0',
    RATE_LIMIT_MAX_REQUESTS: '1000',
    // Every test request comes from 127.0.0.1; the per-IP limit is on only in the tests about it.
    IP_RATE_LIMIT_MAX: '0',
    ...(typeof env === 'function' ? env({ databaseUrl: database.url }) : env),
  });
  const log = logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const running = await startRoles(roles, config, log);
  const url = running.url ?? base;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // Dropping the database at stop() may reach a connection that is still closing: that is expected.
  pool.on('error', () => undefined);
  return {
    url,
    config,
    running,
    twilio,
    llm,
    databaseUrl: database.url,
    query: async <Row extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
      (await pool.query<Row>(text, values)).rows,
    postSigned: (path, params, options = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': options.signature ?? signParams(twilio.authToken, `${url}${path}`, params),
        },
        body: formBody(params),
      }),
    stop: async () => {
      await running.stop();
      await pool.end();
      await Promise.all([twilio.close(), llm.close()]);
      await database.close();
    },
  };
}

/** Poll until `check` returns a value other than undefined, or fail after timeoutMs with `what`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
