/**
 * The worker's failures reach the error handler: an AI key the provider refuses and Twilio refusing our
 * credentials are CRITICAL, so an administrator gets an alert (once per error type per hour), while the user
 * still gets the friendly message and the failure is recorded on the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';

let app: TestApp;
let sink: HttpSink;

beforeAll(async () => {
  sink = await startHttpSink();
  app = await startTestApp({ ALERT_WEBHOOK_URL: sink.url, JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '50' });
}, 60_000);
afterAll(async () => {
  await app.stop();
  await sink.close();
});

const alertTitles = () =>
  sink.requests.map((r) => JSON.stringify(r.json)).filter((body) => body.includes('CRITICAL'));

async function replyTo(from: string) {
  return eventually(`a reply to ${from}`, () => {
    const sent = app.twilio.sent.filter((m) => m.to === from);
    return Promise.resolve(sent.length > 0 ? sent : undefined);
  });
}

describe('alerts from the worker', () => {
  it('an AI key refused by the provider alerts once (CRITICAL AI), and the user still gets an apology', async () => {
    app.llm.respondOnce({ status: 401, errorMessage: 'Incorrect API key provided' });
    app.llm.respondOnce({ status: 401, errorMessage: 'Incorrect API key provided' });
    const first = 'whatsapp:+14155550201';
    const second = 'whatsapp:+14155550202';
    expect((await app.postSigned(WEBHOOK, inboundParams({ From: first }))).status).toBe(200);
    const [apology] = await replyTo(first);
    expect(apology!.body).not.toContain('Incorrect API key');
    // An alert channel is configured here, so the apology may (and does) say the team was told.
    expect(apology!.body).toContain('The team has been notified');
    await sink.waitForRequests(1);
    expect(alertTitles().filter((t) => t.includes('CRITICAL AI: ai_auth'))).toHaveLength(1);

    // The same failure again within the hour: recorded, answered, not alerted again.
    expect((await app.postSigned(WEBHOOK, inboundParams({ From: second }))).status).toBe(200);
    await replyTo(second);
    const rows = await app.query<{ error_kind: string }>(
      `select m.error_kind from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = any($1) and m.role = 'assistant'`,
      [[first, second]],
    );
    expect(rows.map((r) => r.error_kind)).toEqual(['ai_auth', 'ai_auth']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alertTitles().filter((t) => t.includes('CRITICAL AI: ai_auth'))).toHaveLength(1);
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
