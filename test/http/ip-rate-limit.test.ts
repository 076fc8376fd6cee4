import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedWindowCounter, registerIpRateLimit } from '../../src/http/ip-rate-limit.js';
import { createServer } from '../../src/http/server.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The limiter's clock, moved by the tests. */
let clock = 0;

async function build(capture: CapturedLog, max = 3, trustProxy = true) {
  const app = createServer({ log: capture.log, bodyLimitBytes: 1024, trustProxy });
  registerIpRateLimit(app, { max, windowSeconds: 60, log: capture.log, now: () => clock });
  app.post('/api/whatsapp/webhook/', () => ({ ok: true }));
  app.get('/simulator/api/conversations', () => []);
  app.get('/health/', () => ({ status: 'healthy' }));
  app.get('/metrics', () => 'metrics');
  apps.push(app);
  await app.ready();
  return app;
}

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
        url: '/api/whatsapp/webhook/',
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
    expect(logged[0]).toMatchObject({ level: 40, ip: '198.51.100.1', path: '/api/whatsapp/webhook/' });
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
    const post = () =>
      app.inject({ method: 'POST', url: '/api/whatsapp/webhook/', headers: from('198.51.100.7') });
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
        app.inject({ method: 'POST', url: '/api/whatsapp/webhook/', headers: from('198.51.100.8') }),
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
        (await app.inject({ method: 'POST', url: '/api/whatsapp/webhook/', headers: from(ip) })).statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('is off with a limit of 0', async () => {
    const app = await build(captureLog(), 0);
    for (let i = 0; i < 20; i++) {
      expect((await app.inject({ method: 'POST', url: '/api/whatsapp/webhook/' })).statusCode).toBe(200);
    }
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
