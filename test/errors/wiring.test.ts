/**
 * The reporter as the running app uses it: PostgreSQL down turns the webhook's answer into 503 and one CRITICAL
 * DATABASE line per request, with one admin alert for all of them; a process that cannot start says so as
 * CRITICAL and alerts before it exits.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
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

describe('a process that cannot start', () => {
  it('logs CRITICAL, alerts an admin and exits 1', async () => {
    sink.reset();
    const deadDatabase = `postgresql://postgres@127.0.0.1:${await freePort()}/nothing`;
    const child = spawn('node_modules/.bin/tsx', ['src/main/web.ts'], {
      env: {
        PATH: process.env.PATH,
        ENV_FILE: '/nonexistent/.env',
        NODE_ENV: 'test',
        DATABASE_URL: deadDatabase,
        ALERT_WEBHOOK_URL: sink.url,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    const critical = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.severity === 'CRITICAL');
    expect(critical).toMatchObject({ level: 60, stage: 'start', roles: 'web' });
    expect(sink.requests).toHaveLength(1);
    expect((sink.requests[0]!.json as { text: string }).text).toContain('CRITICAL');
  });
});
