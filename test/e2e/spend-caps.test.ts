/**
 * Cost end to end on the real PostgreSQL and Redis, a fake Twilio, a fake OpenAI-compatible LLM reporting token
 * usage, and an alert webhook sink: one web process and two worker instances sharing the database and Redis.
 * Prices come from a MODEL_PRICES_FILE; every call is stored with its cost; a user over SPEND_CAP_USER_DAILY_USD
 * gets one notice a day and no model call (whichever worker handles them), other users are still answered; the
 * global cap alerts at 80 % and 100 % once each and then caps everyone; the admin, the API and /metrics show the
 * figures.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { createApiToken } from '../../src/db/api-tokens.js';
import { dayIn } from '../../src/domain/prices.js';
import { createLogger } from '../../src/log.js';
import { startRoles, type Running } from '../../src/main/run.js';
import { adminClient } from '../admin/client.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const PASSWORD = 'a long enough password';
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let app: TestApp;
let sink: HttpSink;
const workers: Running[] = [];

beforeAll(async () => {
  sink = await startHttpSink();
  const dir = mkdtempSync(join(tmpdir(), 'prices-'));
  const pricesFile = join(dir, 'prices.json');
  // $1 per million tokens both ways: a call of 600 + 400 tokens costs exactly $0.001 (1,000 micro-dollars).
  writeFileSync(pricesFile, JSON.stringify({ 'gpt-test': { input: 1, output: 1 } }));
  // The web role only: the workers are started below, two of them, on the same database and Redis.
  app = await startTestApp(
    {
      MODEL_PRICES_FILE: pricesFile,
      SPEND_CAP_USER_DAILY_USD: '0.002',
      SPEND_CAP_DAILY_USD: '0.005',
      ALERT_WEBHOOK_URL: sink.url,
    },
    ['web', 'scheduler'],
    log,
  );
  app.llm.respond(() => ({ text: 'Sure!', usage: { input: 600, output: 400 } }));
  workers.push(await startRoles(['worker'], app.config, log));
  workers.push(await startRoles(['worker'], app.config, log));
}, 90_000);
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await app.stop();
  await sink.close();
});

let counter = 0;
async function send(from: string): Promise<string> {
  const body = `question ${++counter}`;
  const response = await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }));
  expect(response.status).toBe(200);
  return body;
}

/** The message's final outcome, once a worker has settled it. */
async function outcome(body: string): Promise<[string, string | null]> {
  return eventually(`an outcome for "${body}"`, async () => {
    const [row] = await app.query<{ processing_status: string; outcome_reason: string | null }>(
      `select processing_status, outcome_reason from messages where role = 'user' and content = $1`,
      [body],
    );
    return row && row.processing_status !== 'pending'
      ? ([row.processing_status, row.outcome_reason] as [string, string | null])
      : undefined;
  });
}

const askedAbout = (body: string) =>
  app.llm.requests.filter((r) => r.messages.some((m) => m.role === 'user' && m.content.includes(body)))
    .length;
const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to).map((m) => m.body);

const ANA = 'whatsapp:+14155557001';
const BEA = 'whatsapp:+14155557002';

describe('spend caps across two workers', { timeout: 90_000 }, () => {
  it('records each call with its cost, and stops model calls for a user over the daily cap only (one notice a day)', async () => {
    // Two answers for Ana: $0.002, her cap.
    for (let i = 0; i < 2; i++) {
      const body = await send(ANA);
      expect(await outcome(body)).toEqual(['answered', null]);
    }
    const calls = await app.query<{ cost_micros: string; spend_day: string; model: string }>(
      `select mc.cost_micros::text, to_char(mc.spend_day, 'YYYY-MM-DD') as spend_day, mc.model from model_calls mc
       join conversations c on c.id = mc.conversation_id where c.user_address = $1`,
      [ANA],
    );
    expect(calls.map((c) => c.cost_micros)).toEqual(['1000', '1000']);
    expect(calls.every((c) => c.spend_day === dayIn(new Date(), 'UTC'))).toBe(true);

    // The third message meets the cap: one notice, no model call; the fourth: nothing at all.
    const third = await send(ANA);
    expect(await outcome(third)).toEqual(['notice', 'spend_capped']);
    const fourth = await send(ANA);
    expect(await outcome(fourth)).toEqual(['skipped', 'spend_capped']);
    expect(askedAbout(third) + askedAbout(fourth)).toBe(0);
    await eventually('the notice sent', async () =>
      Promise.resolve(sentTo(ANA).some((b) => b.includes('limit of answers for today')) ? true : undefined),
    );
    expect(sentTo(ANA).filter((b) => b.includes('limit of answers for today'))).toHaveLength(1);

    // With the first worker gone, the second one alone knows nothing in memory: the cap and the day's notice
    // hold from the database and Redis.
    await workers.shift()?.stop();
    const fifth = await send(ANA);
    expect(await outcome(fifth)).toEqual(['skipped', 'spend_capped']);
    expect(askedAbout(fifth)).toBe(0);

    // Another user is still answered.
    const beas = await send(BEA);
    expect(await outcome(beas)).toEqual(['answered', null]);
    expect(askedAbout(beas)).toBe(1);
  });

  it('alerts at 80 % and 100 % of the global cap once each, then caps everyone', async () => {
    // Spent so far: $0.003 (Ana 2, Bea 1). One more call: $0.004 = 80 %, alerted before the next call.
    const carl = 'whatsapp:+14155557003';
    expect(await outcome(await send(carl))).toEqual(['answered', null]);
    const dora = 'whatsapp:+14155557004';
    expect(await outcome(await send(dora))).toEqual(['answered', null]);
    // $0.005 now: 100 %. The next user is capped (a notice), whoever they are.
    const emil = 'whatsapp:+14155557005';
    const emils = await send(emil);
    expect(await outcome(emils)).toEqual(['notice', 'spend_capped']);
    expect(askedAbout(emils)).toBe(0);
    const fay = 'whatsapp:+14155557006';
    expect(await outcome(await send(fay))).toEqual(['notice', 'spend_capped']);

    const spendAlerts = () =>
      sink.requests.map((r) => JSON.stringify(r.json)).filter((text) => text.includes('of the daily cap'));
    await eventually('two spend alerts', () => Promise.resolve(spendAlerts().length >= 2 ? true : undefined));
    const alerts = spendAlerts();
    expect(alerts).toHaveLength(2);
    const at80 = alerts.filter((a) => a.includes('at 80 %'));
    expect(at80).toHaveLength(1);
    expect(at80[0]).toContain('reached $0.004');
    expect(alerts.filter((a) => a.includes('at 100 %'))).toHaveLength(1);
    const rows = await app.query<{ percent: number }>('select percent from spend_alerts order by percent');
    expect(rows.map((r) => r.percent)).toEqual([80, 100]);
  });

  it('shows the figures in the API, the admin and /metrics', async () => {
    const db = app.running.composed.deps.db;
    const { token } = await createApiToken(db, { name: 'costs', role: 'viewer' });
    const api = async (path: string) => {
      const response = await fetch(`${app.url}/api/v1${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const today = dayIn(new Date(), 'UTC');

    const overview = await api('/costs?days=7');
    expect(overview.status).toBe(200);
    expect(overview.body).toMatchObject({
      timezone: 'UTC',
      today,
      spentTodayUsd: 0.005,
      caps: { userDailyUsd: 0.002, dailyUsd: 0.005, cheaperModel: null },
      days: [{ day: today, costUsd: 0.005, calls: 5, unpricedCalls: 0 }],
    });
    const byUser = await api(`/costs/${today}?by=user`);
    expect(byUser.body.rows).toContainEqual({
      key: `twilio:${ANA}`,
      costUsd: 0.002,
      calls: 2,
      unpricedCalls: 0,
    });
    const byNumber = await api(`/costs/${today}?by=number`);
    expect(byNumber.body.rows).toEqual([
      { key: 'twilio:whatsapp:+14155238886', costUsd: 0.005, calls: 5, unpricedCalls: 0 },
    ]);
    const byConversation = await api(`/costs/${today}?by=conversation&limit=1`);
    const top = (byConversation.body.rows as Array<Record<string, unknown>>)[0];
    expect(top).toMatchObject({ user: ANA, costUsd: 0.002, calls: 2 });
    const conversation = await api(`/conversations/${String(top?.conversationId)}/cost`);
    expect(conversation.body).toMatchObject({ costUsd: 0.002, calls: 2 });
    expect(conversation.body.messages).toEqual([
      expect.objectContaining({ costUsd: 0.001, calls: 1 }),
      expect.objectContaining({ costUsd: 0.001, calls: 1 }),
    ]);
    expect((await api('/costs/not-a-day')).status).toBe(404);
    expect((await api('/costs?days=0')).status).toBe(400);

    await createAdminUser(db, { username: 'costs-admin', password: PASSWORD });
    const admin = adminClient(app.url);
    await admin.login('costs-admin', PASSWORD);
    const page = await admin.get('/admin/costs');
    expect(page.status).toBe(200);
    expect(page.body).toContain('$0.005 (100 % of the daily cap)');
    expect(page.body).toContain('14155557001');
    const conversationPage = await admin.get(`/admin/costs/conversations/${String(top?.conversationId)}`);
    expect(conversationPage.body).toContain('data-testid="conversation-cost">$0.002<');

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('chatbot_model_spend_today_usd{scope="global",key=""} 0.005');
    expect(metrics).toContain('chatbot_model_spend_today_usd{scope="model",key="gpt-test"} 0.005');
    expect(metrics).toContain('chatbot_model_calls_today{model="gpt-test",unpriced="false"} 5');
    expect(metrics).toContain('chatbot_spend_cap_usd{scope="user"} 0.002');
  });
});
