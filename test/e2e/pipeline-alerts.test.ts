/**
 * The worker's failures reach the error handler: an AI key the provider refuses and Twilio refusing our
 * credentials are CRITICAL, an AI provider that stays unreachable through the retries is HIGH, so an
 * administrator gets an alert (once per error type and model per hour, however many messages fail), while the
 * user still gets the friendly message and the failure is recorded on the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { startFakeSmtp, type FakeSmtp } from '../fakes/smtp-server.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const MESSAGES = 6;

let app: TestApp;
let sink: HttpSink;
let capture: CapturedLog;

beforeAll(async () => {
  sink = await startHttpSink();
  capture = captureLog('debug');
  app = await startTestApp(
    { ALERT_WEBHOOK_URL: sink.url, JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '50' },
    undefined,
    capture.log,
  );
}, 60_000);
afterAll(async () => {
  await app.stop();
  await sink.close();
});

const alertTexts = (from: HttpSink) => from.requests.map((r) => JSON.stringify(r.json));
const alertTitles = () => alertTexts(sink).filter((body) => body.includes('CRITICAL'));

async function replyTo(on: TestApp, from: string) {
  return eventually(`a reply to ${from}`, () => {
    const sent = on.twilio.sent.filter((m) => m.to === from);
    return Promise.resolve(sent.length > 0 ? sent : undefined);
  });
}

/** The reporter logs every alert it held back: the positive signal that all reports were handled. */
const mutedAlerts = (log: CapturedLog, errorType: string) =>
  log.lines().filter((l) => l.msg?.startsWith('alert muted') && l.errorType === errorType).length;

describe('alerts from the worker', () => {
  it('an AI key refused by the provider alerts once (CRITICAL AI) for many failing messages, and every user gets an apology', async () => {
    app.llm.respond(() => ({ status: 401, errorMessage: 'Incorrect API key provided' }));
    const senders = Array.from({ length: MESSAGES }, (_, i) => `whatsapp:+1415555021${i}`);
    const posted = await Promise.all(
      senders.map((from) => app.postSigned(WEBHOOK, inboundParams({ From: from }))),
    );
    expect(posted.map((r) => r.status)).toEqual(senders.map(() => 200));
    const apologies = await Promise.all(senders.map(async (from) => (await replyTo(app, from))[0]!.body));
    for (const apology of apologies) {
      expect(apology).not.toContain('Incorrect API key');
      // An alert channel is configured here, so the apology may (and does) say the team was told.
      expect(apology).toContain('The team has been notified');
    }
    const rows = await app.query<{ error_kind: string }>(
      `select m.error_kind from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = any($1) and m.role = 'assistant'`,
      [senders],
    );
    expect(rows.map((r) => r.error_kind)).toEqual(senders.map(() => 'ai_auth'));
    await eventually('every report handled', () =>
      Promise.resolve(mutedAlerts(capture, 'ai_auth') === MESSAGES - 1 ? true : undefined),
    );
    expect(alertTitles().filter((t) => t.includes('CRITICAL AI: ai_auth'))).toHaveLength(1);
    expect(alertTexts(sink).join('\n')).toContain('alerts for gpt-test are muted');
    app.llm.reset();
  });

  it('Twilio refusing our credentials on send alerts (CRITICAL WHATSAPP) and marks the part failed', async () => {
    const from = 'whatsapp:+14155550203';
    app.twilio.failNext(1, { status: 401, code: 20003, message: 'Authenticate' });
    expect((await app.postSigned(WEBHOOK, inboundParams({ From: from }))).status).toBe(200);
    await eventually('the failed part', async () => {
      const rows = await app.query<{ status: string; error_code: string | null }>(
        `select d.status, d.error_code from deliveries d join conversations c on c.id = d.conversation_id
         where c.user_address = $1`,
        [from],
      );
      return rows[0]?.status === 'failed' ? rows[0] : undefined;
    });
    await eventually('the alert', () =>
      Promise.resolve(
        alertTitles().some((t) => t.includes('CRITICAL WHATSAPP: channel_auth')) ? true : undefined,
      ),
    );
  });
});

describe('an AI provider that cannot be reached', () => {
  let down: TestApp;
  let smtp: FakeSmtp;
  let hook: HttpSink;
  let downLog: CapturedLog;

  beforeAll(async () => {
    [smtp, hook] = await Promise.all([startFakeSmtp(), startHttpSink()]);
    downLog = captureLog('debug');
    // Nothing listens on this port: every call fails with ECONNREFUSED, as when the provider's host is down.
    const closedPort = await freePort();
    down = await startTestApp(
      {
        AI_BASE_URL: `http://127.0.0.1:${closedPort}/v1`,
        SMTP_HOST: smtp.host,
        SMTP_PORT: String(smtp.port),
        SMTP_USER: 'alerts@example.test',
        SMTP_PASSWORD: 'smtp-password',
        ALERT_EMAIL_TO: 'admin@example.test',
        ALERT_WEBHOOK_URL: hook.url,
        JOB_ATTEMPTS: '2',
        JOB_BACKOFF_MS: '50',
      },
      undefined,
      downLog.log,
    );
  }, 60_000);
  afterAll(async () => {
    await down.stop();
    await Promise.all([smtp.close(), hook.close()]);
  });

  it('after the retries, alerts the admin once (HIGH AI ai_unavailable) by email and webhook for many failing messages', async () => {
    const senders = Array.from({ length: MESSAGES }, (_, i) => `whatsapp:+1415555031${i}`);
    await Promise.all(senders.map((from) => down.postSigned(WEBHOOK, inboundParams({ From: from }))));
    for (const from of senders) {
      const [apology] = await replyTo(down, from);
      expect(apology!.body).toContain('not reachable');
    }
    await eventually('every report handled', () =>
      Promise.resolve(mutedAlerts(downLog, 'ai_unavailable') === MESSAGES - 1 ? true : undefined),
    );
    const [mail] = await smtp.waitForMessages(1);
    expect(smtp.messages).toHaveLength(1);
    expect(mail!.headers.subject).toContain('HIGH AI error: ai_unavailable');
    expect(mail!.text).toContain('ECONNREFUSED');
    expect(hook.requests).toHaveLength(1);
    expect(alertTexts(hook)[0]).toContain('HIGH AI error (ai_unavailable)');
    // Each message was tried JOB_ATTEMPTS times; only the final failure of each is reported at HIGH.
    const reported = downLog.lines().filter((l) => l.errorType === 'ai_unavailable' && l.severity);
    expect(reported.map((l) => l.severity)).toEqual(senders.map(() => 'HIGH'));
  });
});
