/**
 * The per-IP flood guard in the assembled web role (real PostgreSQL and Redis): Twilio's signed webhooks and
 * status callbacks are never counted, whatever their number, while forged ones, unsigned ones when signatures
 * are not checked, and the other public endpoints are, and get 429 past the limit.
 * Each test uses its own client address (TRUST_PROXY, X-Forwarded-For) so the counts never mix; the window is an
 * hour so that a test does not straddle two windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { formBody, inboundParams, randomSid, signParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const STATUS = '/api/whatsapp/status/';
const LIMIT = 5;
const LIMITED = {
  IP_RATE_LIMIT_MAX: String(LIMIT),
  IP_RATE_LIMIT_WINDOW_SECONDS: '3600',
  TRUST_PROXY: 'true',
};

let app: TestApp;
let unchecked: TestApp;
beforeAll(async () => {
  [app, unchecked] = await Promise.all([
    startTestApp(LIMITED, ['web']),
    startTestApp({ ...LIMITED, SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'true' }, ['web']),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([app.stop(), unchecked.stop()]);
});

/** POST a form from client address `ip`, signed as Twilio signs it unless `signature` says otherwise. */
async function post(
  target: TestApp,
  ip: string,
  path: string,
  params: Record<string, string>,
  signature?: string,
): Promise<number> {
  const response = await fetch(`${target.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': ip,
      'x-twilio-signature':
        signature ??
        signParams(target.twilio.authToken, `${target.config.http.publicBaseUrl}${path}`, params),
    },
    body: formBody(params),
  });
  await response.arrayBuffer();
  return response.status;
}

const FORGED = 'bm90IGEgc2lnbmF0dXJl';

async function storedFrom(target: TestApp, from: string): Promise<number> {
  const [row] = await target.query<{ count: string }>(
    `select count(*) from messages m join conversations c on c.id = m.conversation_id
     where c.user_address = $1 and m.role = 'user'`,
    [from],
  );
  return Number(row?.count);
}

describe('the per-IP limit and Twilio signatures', () => {
  it('never refuses signed webhooks or status callbacks, however many come from one address', async () => {
    const ip = '203.0.113.10';
    const from = 'whatsapp:+14155550101';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 4; i++)
      statuses.push(await post(app, ip, WEBHOOK, inboundParams({ From: from, Body: `message ${i}` })));
    for (let i = 0; i < LIMIT * 2; i++)
      statuses.push(await post(app, ip, STATUS, { MessageSid: randomSid('SM'), MessageStatus: 'delivered' }));
    expect(statuses).toEqual(Array.from({ length: LIMIT * 6 }, () => 200));
    expect(await storedFrom(app, from)).toBe(LIMIT * 4);
  });

  it('counts forged webhooks (403, then 429 past the limit) while signed ones from the same address still pass', async () => {
    const ip = '203.0.113.11';
    const forged: number[] = [];
    for (let i = 0; i <= LIMIT; i++) forged.push(await post(app, ip, WEBHOOK, inboundParams(), FORGED));
    expect(forged).toEqual([...Array.from({ length: LIMIT }, () => 403), 429]);
    expect(await post(app, ip, STATUS, { MessageSid: randomSid('SM'), MessageStatus: 'sent' }, FORGED)).toBe(
      429,
    );

    const from = 'whatsapp:+14155550102';
    expect(await post(app, ip, WEBHOOK, inboundParams({ From: from }))).toBe(200);
    expect(await storedFrom(app, from)).toBe(1);
    // The other public endpoints share the address's budget, spent by the forgeries.
    const login = await fetch(`${app.url}/admin/login`, { headers: { 'x-forwarded-for': ip } });
    expect(login.status).toBe(429);
  });

  it('counts the other public endpoints, signed webhooks in between changing nothing', async () => {
    const ip = '203.0.113.12';
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      expect(await post(app, ip, WEBHOOK, inboundParams())).toBe(200);
      const login = await fetch(`${app.url}/admin/login`, { headers: { 'x-forwarded-for': ip } });
      await login.arrayBuffer();
      statuses.push(login.status);
    }
    expect(statuses).toEqual([...Array.from({ length: LIMIT }, () => 200), 429]);
  });

  it('with SKIP_WEBHOOK_SIGNATURE_VERIFICATION, counts every webhook: nothing proves it is Twilio’s', async () => {
    const ip = '203.0.113.13';
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++)
      statuses.push(await post(unchecked, ip, WEBHOOK, inboundParams(), FORGED));
    expect(statuses).toEqual([...Array.from({ length: LIMIT }, () => 200), 429]);
  });
});
