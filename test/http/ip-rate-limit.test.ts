import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedWindowCounter, registerIpRateLimit } from '../../src/http/ip-rate-limit.js';
import { createServer } from '../../src/http/server.js';
import { registerTwilioWebhook } from '../../src/http/twilio-webhook.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { formBody, inboundParams, TEST_AUTH_TOKEN } from '../helpers/twilio.js';
import { noNumberRows } from '../helpers/pipeline-deps.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The limiter's clock, moved by the tests. */
let clock = 0;

async function build(capture: CapturedLog, max = 3, trustProxy = true) {
  const app = createServer({ log: capture.log, bodyLimitBytes: 1024, trustProxy });
  const guard = registerIpRateLimit(app, { max, windowSeconds: 60, log: capture.log, now: () => clock });
  // The real Twilio routes; no request in this file gets past the signature check, so they need no database.
  registerTwilioWebhook(
    app,
    // No number beyond the environment's: every signature is checked with TWILIO_AUTH_TOKEN.
    { auditLog, log: capture.log, numbers: noNumberRows } as unknown as WebhookDeps,
    {
      twilio: {
        accountSid: 'AC' + '0'.repeat(32),
        authToken: TEST_AUTH_TOKEN,
        whatsappNumber: 'whatsapp:+14155238886',
        apiBaseUrl: undefined,
      },
      skipSignature: false,
      publicBaseUrl: 'https://bot.example.test',
      trustProxy,
      ipRateLimit: guard,
    },
  );
  app.post('/admin/login', () => ({ ok: true }));
  app.get('/simulator/api/conversations', () => []);
  app.get('/health/', () => ({ status: 'healthy' }));
  app.get('/metrics', () => 'metrics');
  apps.push(app);
  await app.ready();
  return app;
}

type WebhookDeps = Parameters<typeof registerTwilioWebhook>[1];
/** The audit log's writer, reduced to what the route hands it. */
const auditLog = { write: () => undefined, flush: () => Promise.resolve(), close: () => Promise.resolve() };

const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('per-IP rate limit', () => {
  it('answers 429 with Retry-After once an IP is over the limit, and logs it once per window', async () => {
    const capture = captureLog();
    clock = 1_000_000_000_000;
    const app = await build(capture);
    const statuses: number[] = [];
    const headers: Array<Record<string, unknown>> = [];
    const bodies: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/admin/login',
        headers: from('198.51.100.1'),
      });
      statuses.push(response.statusCode);
      headers.push(response.headers);
      bodies.push(response.json());
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const retryAfter = Number(headers[4]!['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(bodies[4]).toMatchObject({ error: 'rate_limited' });
    const logged = capture.lines().filter((l) => l.msg?.startsWith('client IP over the rate limit'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, ip: '198.51.100.1', path: '/admin/login' });
  });

  it('counts each client IP on its own', async () => {
    const app = await build(captureLog(), 2);
    const hit = (ip: string) =>
      app
        .inject({ method: 'GET', url: '/simulator/api/conversations', headers: from(ip) })
        .then((r) => r.statusCode);
    expect([await hit('198.51.100.1'), await hit('198.51.100.1'), await hit('198.51.100.1')]).toEqual([
      200, 200, 429,
    ]);
    expect([await hit('198.51.100.2'), await hit('198.51.100.2')]).toEqual([200, 200]);
  });

  it('frees the budget when the window turns, with Retry-After pointing at it', async () => {
    clock = 1_000_000_040_000; // 20 s into a 60 s window (windows are aligned to the epoch)
    const app = await build(captureLog(), 2);
    const post = () => app.inject({ method: 'POST', url: '/admin/login', headers: from('198.51.100.7') });
    expect([(await post()).statusCode, (await post()).statusCode]).toEqual([200, 200]);
    const refused = await post();
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('40');
    clock += 40_000;
    expect((await post()).statusCode).toBe(200);
  });

  it('answers concurrent requests from one address with exactly the limit', async () => {
    const app = await build(captureLog(), 10);
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        app.inject({ method: 'POST', url: '/admin/login', headers: from('198.51.100.8') }),
      ),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(10);
    expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(20);
  });

  it('never limits /health/ or /metrics', async () => {
    const app = await build(captureLog(), 1);
    for (let i = 0; i < 5; i++) {
      expect(
        (await app.inject({ method: 'GET', url: '/health/', headers: from('198.51.100.3') })).statusCode,
      ).toBe(200);
      expect(
        (await app.inject({ method: 'GET', url: '/metrics', headers: from('198.51.100.3') })).statusCode,
      ).toBe(200);
    }
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/simulator/api/conversations',
          headers: from('198.51.100.3'),
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/simulator/api/conversations',
          headers: from('198.51.100.3'),
        })
      ).statusCode,
    ).toBe(429);
  });

  it('without TRUST_PROXY a forged X-Forwarded-For does not give a client a fresh budget', async () => {
    const app = await build(captureLog(), 2, false);
    const statuses = [];
    for (const ip of ['198.51.100.10', '198.51.100.11', '198.51.100.12']) {
      statuses.push(
        (await app.inject({ method: 'POST', url: '/admin/login', headers: from(ip) })).statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('is off with a limit of 0', async () => {
    const app = await build(captureLog(), 0);
    for (let i = 0; i < 20; i++) {
      expect((await app.inject({ method: 'POST', url: '/admin/login' })).statusCode).toBe(200);
    }
  });
});

describe('per-IP rate limit on the signed Twilio paths', () => {
  const forged = (app: FastifyInstance, ip: string, url = '/api/whatsapp/webhook/') =>
    app
      .inject({
        method: 'POST',
        url,
        headers: {
          ...from(ip),
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl',
        },
        payload: formBody(inboundParams({ Body: 'forged' })),
      })
      .then((r) => r.statusCode);

  it('counts forged webhooks after the signature check: 403 up to the limit, then 429 and one log line', async () => {
    const capture = captureLog();
    const app = await build(capture, 3);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await forged(app, '198.51.100.20'));
    expect(statuses).toEqual([403, 403, 403, 429, 429, 429]);
    // Past the limit the guard's one line per window replaces the per-request signature line.
    expect(capture.lines().filter((l) => l.kind === 'bad_signature')).toHaveLength(3);
    const limited = capture.lines().filter((l) => l.msg?.startsWith('client IP over the rate limit'));
    expect(limited).toEqual([
      expect.objectContaining({ ip: '198.51.100.20', path: '/api/whatsapp/webhook/', limit: 3 }),
    ]);
  });

  it('counts forged status callbacks, the path without its slash, and shares the budget with other endpoints', async () => {
    const app = await build(captureLog(), 3);
    expect(await forged(app, '198.51.100.21', '/api/whatsapp/status/')).toBe(403);
    expect(await forged(app, '198.51.100.21', '/api/whatsapp/webhook')).toBe(403);
    const login = () =>
      app
        .inject({ method: 'POST', url: '/admin/login', headers: from('198.51.100.21') })
        .then((r) => r.statusCode);
    expect(await login()).toBe(200);
    expect(await login()).toBe(429);
    expect(await forged(app, '198.51.100.21', '/api/whatsapp/status/')).toBe(429);
  });

  it('counts a webhook body that is not a form at once: it cannot carry a valid signature', async () => {
    const app = await build(captureLog(), 3);
    const notAForm = () =>
      app
        .inject({
          method: 'POST',
          url: '/api/whatsapp/webhook/',
          headers: { ...from('198.51.100.22'), 'content-type': 'text/plain' },
          payload: 'not a form',
        })
        .then((r) => r.statusCode);
    expect([await notAForm(), await notAForm(), await notAForm(), await notAForm()]).toEqual([
      415, 415, 415, 429,
    ]);
    expect(await forged(app, '198.51.100.22')).toBe(429);
  });

  it('counts a form answered before its signature check (over the body limit) when it is answered', async () => {
    const app = await build(captureLog(), 3);
    for (let i = 0; i < 3; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/whatsapp/webhook/',
        headers: { ...from('198.51.100.24'), 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ Body: 'x'.repeat(2048) }),
      });
      expect(response.statusCode).toBe(413);
    }
    expect(await forged(app, '198.51.100.24')).toBe(429);
  });

  it('counts the GET probe of the webhook path like any other request', async () => {
    const app = await build(captureLog(), 2);
    const probe = () =>
      app
        .inject({ method: 'GET', url: '/api/whatsapp/webhook/', headers: from('198.51.100.23') })
        .then((r) => r.statusCode);
    expect([await probe(), await probe(), await probe()]).toEqual([200, 200, 429]);
  });
});

describe('FixedWindowCounter', () => {
  it('counts per key within a window and starts again at the next one', () => {
    const counter = new FixedWindowCounter(1000);
    expect(counter.hit('a', 5000)).toEqual({ count: 1, resetMs: 1000 });
    expect(counter.hit('a', 5999)).toEqual({ count: 2, resetMs: 1 });
    expect(counter.hit('b', 5999).count).toBe(1);
    expect(counter.hit('a', 6000)).toEqual({ count: 1, resetMs: 1000 });
  });
});
