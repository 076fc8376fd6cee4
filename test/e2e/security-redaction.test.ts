/**
 * Secrets never leave in logs, audit rows, stored errors or alerts. The app runs with recognisable secret values
 * and goes through every path that handles them or fails around them: a valid webhook, a forged one, the LLM
 * refusing the key (and echoing it, as some providers do), Twilio refusing our credentials, the database going
 * away. Then every log line, every row and every alert is searched for the values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { startFakeSmtp, type FakeSmtp } from '../fakes/smtp-server.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const OPENAI_API_KEY = 'sk-live-REDACTME-openai-0123456789abcdef';
const SMTP_PASSWORD = 'smtp-REDACTME-password-4711';
const DB_PASSWORD = 'pg-REDACTME-password-0815';

let app: TestApp;
let capture: CapturedLog;
let smtp: FakeSmtp;
let sink: HttpSink;
let dbProxy: TcpProxy;
let secrets: string[];

beforeAll(async () => {
  capture = captureLog('trace');
  [smtp, sink, dbProxy] = await Promise.all([
    startFakeSmtp(),
    startHttpSink(),
    startTcpProxy({ host: '127.0.0.1', port: 5432 }),
  ]);
  app = await startTestApp(
    ({ databaseUrl }) => {
      // Through a proxy the test can cut, with a password (trust authentication ignores it, the app does not).
      const url = new URL(databaseUrl);
      url.port = String(dbProxy.port);
      url.password = DB_PASSWORD;
      return {
        DATABASE_URL: url.toString(),
        OPENAI_API_KEY,
        SMTP_HOST: smtp.host,
        SMTP_PORT: String(smtp.port),
        SMTP_USER: 'alerts@example.test',
        SMTP_PASSWORD,
        ALERT_EMAIL_TO: 'admin@example.test',
        ALERT_WEBHOOK_URL: sink.url,
        JOB_ATTEMPTS: '1',
      };
    },
    undefined,
    capture.log,
  );
  secrets = [OPENAI_API_KEY, SMTP_PASSWORD, DB_PASSWORD, app.twilio.authToken];
}, 60_000);
afterAll(async () => {
  await dbProxy.restore().catch(() => undefined);
  await app.stop();
  await Promise.all([smtp.close(), sink.close(), dbProxy.close()]);
});

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);

function expectNoSecret(where: string, text: string) {
  for (const secret of secrets) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
}

describe('secrets', () => {
  it('appear in no log line, webhook log row, stored error or alert, whatever happens', async () => {
    expect(app.twilio.authToken.length).toBeGreaterThanOrEqual(16);

    // 1. A valid webhook, answered.
    const happy = 'whatsapp:+14155550101';
    app.llm.respondOnce({ text: 'hello' });
    expect((await app.postSigned(WEBHOOK, inboundParams({ From: happy, To: BUSINESS_NUMBER }))).status).toBe(
      200,
    );
    const [reply] = await eventually('the reply', () =>
      Promise.resolve(sentTo(happy).length > 0 ? sentTo(happy) : undefined),
    );
    expect((await app.twilio.deliverStatus(reply!.sid, 'delivered')).status).toBe(200);

    // 2. A forged webhook.
    const forged = await app.postSigned(WEBHOOK, inboundParams({ From: 'whatsapp:+14155550102' }), {
      signature: 'Zm9yZ2VkIHNpZ25hdHVyZQ==',
    });
    expect(forged.status).toBe(403);

    // 3. The LLM refuses the key and echoes it back in its error.
    const refusedKey = 'whatsapp:+14155550103';
    app.llm.respondOnce({ status: 401, errorMessage: `Incorrect API key provided: ${OPENAI_API_KEY}` });
    await app.postSigned(WEBHOOK, inboundParams({ From: refusedKey }));
    await eventually('the apology after the refused key', () =>
      Promise.resolve(sentTo(refusedKey).length > 0 ? true : undefined),
    );

    // 4. Twilio refuses our credentials when we send.
    const refusedSend = 'whatsapp:+14155550104';
    app.twilio.failNext(1, { status: 401, code: 20003, message: 'Authenticate' });
    await app.postSigned(WEBHOOK, inboundParams({ From: refusedSend }));
    await eventually('the failed delivery', async () => {
      const rows = await app.query<{ status: string }>(
        `select d.status from deliveries d join conversations c on c.id = d.conversation_id where c.user_address = $1`,
        [refusedSend],
      );
      return rows.some((r) => r.status === 'failed') ? true : undefined;
    });

    // 5. The database goes away: the webhook answers 503 and an admin is alerted.
    await dbProxy.cut();
    const down = await app.postSigned(WEBHOOK, inboundParams({ From: 'whatsapp:+14155550105' }));
    expect(down.status).toBe(503);
    expectNoSecret('the 503 body', await down.text());
    await smtp.waitForMessages(1);
    await sink.waitForRequests(1);
    await dbProxy.restore();

    // Give the worker and the scheduler a moment to log what they log after a failure.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const logText = capture.text();
    expect(logText).toContain('invalid Twilio signature');
    expect(logText).toContain('CRITICAL');
    expect(logText).toContain('ai_auth');
    expect(logText).toContain('channel_auth');
    expectNoSecret('the logs', logText);
    for (const table of ['webhook_logs', 'messages', 'deliveries', 'delivery_events', 'conversations']) {
      const rows = await app.query<{ row: string }>(`select row_to_json(t)::text as row from ${table} t`);
      expect(rows.length, `${table} has rows`).toBeGreaterThan(0);
      for (const { row } of rows) expectNoSecret(table, row);
    }
    for (const mail of smtp.messages) expectNoSecret('an alert email', mail.raw);
    for (const post of sink.requests) expectNoSecret('an alert webhook post', post.body);
  });
});
