/**
 * The reporter as the running app uses it: PostgreSQL down turns the webhook's answer into 503 and one CRITICAL
 * DATABASE line per request, with one admin alert for all of them; a process that cannot start says so as
 * CRITICAL and alerts before it exits.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { createEmptyTestDatabase } from '../helpers/database.js';
import { TEST_DATABASE_ADMIN_URL } from '../helpers/services.js';
import { freePort, startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { inboundParams } from '../helpers/twilio.js';
import { captureLog, type CapturedLog } from './capture-log.js';

let sink: HttpSink;
beforeAll(async () => {
  sink = await startHttpSink();
});
afterAll(async () => {
  await sink.close();
});

describe('PostgreSQL down while the webhook is called', () => {
  let app: TestApp;
  let capture: CapturedLog;
  let dbProxy: TcpProxy;

  beforeAll(async () => {
    capture = captureLog('info');
    dbProxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    app = await startTestApp(
      ({ databaseUrl }) => {
        const url = new URL(databaseUrl);
        url.port = String(dbProxy.port);
        return { DATABASE_URL: url.toString(), ALERT_WEBHOOK_URL: sink.url };
      },
      ['web'],
      capture.log,
    );
  }, 60_000);
  afterAll(async () => {
    await dbProxy.restore().catch(() => undefined);
    await app.stop();
    await dbProxy.close();
  });

  it('answers 503, logs each request as CRITICAL DATABASE and alerts an admin once', async () => {
    sink.reset();
    await dbProxy.cut();
    const responses = [
      await app.postSigned('/api/whatsapp/webhook/', inboundParams()),
      await app.postSigned('/api/whatsapp/webhook/', inboundParams()),
    ];
    expect(responses.map((r) => r.status)).toEqual([503, 503]);

    const critical = capture.lines().filter((l) => l.severity === 'CRITICAL');
    expect(critical).toHaveLength(2);
    expect(critical.map((l) => l.requestId)).toEqual(responses.map((r) => r.headers.get('x-request-id')));
    for (const line of critical) {
      expect(line).toMatchObject({
        level: 60,
        category: 'DATABASE',
        errorType: 'database_unavailable',
        path: '/api/whatsapp/webhook/',
      });
      expect(line.msg).toContain('CRITICAL');
    }

    await sink.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const alerts = sink.requests.map((r) => (r.json as { text: string }).text);
    expect(alerts.filter((text) => text.includes('DATABASE'))).toHaveLength(1);
    expect(alerts[0]).toContain('CRITICAL DATABASE error (database_unavailable)');
    await dbProxy.restore();
  });
});

/** A real web process with this environment; its output is collected as it comes. */
function startWeb(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/web.ts'], {
    env: {
      PATH: process.env.PATH,
      ENV_FILE: '/dev/null',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      ALERT_WEBHOOK_URL: sink.url,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, exited, lines };
}

describe('a process whose PostgreSQL does not answer at start', () => {
  it('starts anyway: CRITICAL and one alert, health 503 naming the database, 200 once it answers', async () => {
    sink.reset();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    await proxy.cut();
    const port = await freePort();
    // An empty database: the migrations too must run once it answers.
    const empty = await createEmptyTestDatabase();
    const database = new URL(empty.url);
    database.port = String(proxy.port);
    const web = startWeb({ PORT: String(port), DATABASE_URL: database.toString() });
    try {
      const health = async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/`).catch(() => undefined);
        return response
          ? { status: response.status, body: (await response.json()) as { down?: string[] } }
          : undefined;
      };
      const down = await eventually('a health answer', health);
      expect(down).toMatchObject({ status: 503, body: { down: ['database'] } });
      expect(web.lines().find((line) => line.severity === 'CRITICAL')).toMatchObject({
        level: 60,
        category: 'DATABASE',
        stage: 'start',
      });
      await sink.waitForRequests(1);
      await proxy.restore();
      await eventually('health 200 after the database is back', async () => {
        const answer = await health();
        return answer?.status === 200 ? answer : undefined;
      });
      expect(sink.requests).toHaveLength(1);
      // The migrations run once the database answers (at the next retry, within a few seconds).
      const client = new pg.Client({ connectionString: empty.url });
      await client.connect();
      try {
        await eventually('the migrations', async () => {
          const tables = await client.query<{ found: string | null }>(
            "select to_regclass('messages')::text as found",
          );
          return tables.rows[0]?.found === 'messages' ? true : undefined;
        });
      } finally {
        await client.end();
      }
    } finally {
      web.child.kill('SIGTERM');
      await web.exited;
      await proxy.close();
      await empty.drop();
    }
  });
});

describe('a process that cannot start', () => {
  it('a database server that refuses us (no such database): logs CRITICAL, alerts an admin and exits 1', async () => {
    sink.reset();
    const missing = new URL(TEST_DATABASE_ADMIN_URL);
    missing.pathname = '/no_such_database_for_this_test';
    const web = startWeb({ PORT: String(await freePort()), DATABASE_URL: missing.toString() });
    expect(await web.exited).toBe(1);
    const critical = web.lines().find((line) => line.severity === 'CRITICAL');
    expect(critical).toMatchObject({ level: 60, stage: 'start', roles: 'web' });
    expect(JSON.stringify(critical)).toContain('does not exist');
    expect(sink.requests).toHaveLength(1);
    expect((sink.requests[0]!.json as { text: string }).text).toContain('CRITICAL');
  });
});
