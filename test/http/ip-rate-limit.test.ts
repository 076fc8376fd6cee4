import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { registerIpRateLimit } from '../../src/http/ip-rate-limit.js';
import { createServer } from '../../src/http/server.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { createRedis, waitForRedis } from '../../src/infra/redis/connect.js';
import { createRedisRateLimiter } from '../../src/infra/redis/rate-limiter.js';
import type { RateLimiter } from '../../src/ports.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { freePort } from '../helpers/tcp-proxy.js';

const apps: FastifyInstance[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const redis of clients.splice(0)) redis.disconnect();
});

async function redisLimiter(prefix: string, url = TEST_REDIS_URL, connected = true): Promise<RateLimiter> {
  const redis = createRedis(url, { purpose: 'commands' });
  clients.push(redis);
  if (connected) await waitForRedis(redis, 5000);
  return createRedisRateLimiter(redis, { prefix });
}

async function build(limiter: RateLimiter, capture: CapturedLog, max = 3, trustProxy = true) {
  const app = createServer({ log: capture.log, bodyLimitBytes: 1024, trustProxy });
  registerIpRateLimit(app, { limiter, max, windowSeconds: 60, log: capture.log });
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
    const app = await build(await redisLimiter(`test-${randomUUID()}`), capture);
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
    const app = await build(await redisLimiter(`test-${randomUUID()}`), captureLog(), 2);
    const hit = (ip: string) =>
      app
        .inject({ method: 'GET', url: '/simulator/api/conversations', headers: from(ip) })
        .then((r) => r.statusCode);
    expect([await hit('198.51.100.1'), await hit('198.51.100.1'), await hit('198.51.100.1')]).toEqual([
      200, 200, 429,
    ]);
    expect([await hit('198.51.100.2'), await hit('198.51.100.2')]).toEqual([200, 200]);
  });

  it('is one count across processes sharing Redis, even under concurrent requests', async () => {
    const prefix = `test-${randomUUID()}`;
    const first = await build(await redisLimiter(prefix), captureLog(), 10);
    const second = await build(await redisLimiter(prefix), captureLog(), 10);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? first : second).inject({
          method: 'POST',
          url: '/api/whatsapp/webhook/',
          headers: from('198.51.100.7'),
        }),
      ),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(10);
    expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(20);
  });

  it('never limits /health/ or /metrics', async () => {
    const app = await build(createMemoryRateLimiter(), captureLog(), 1);
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
    const app = await build(createMemoryRateLimiter(), captureLog(), 2, false);
    const statuses = [];
    for (const ip of ['198.51.100.10', '198.51.100.11', '198.51.100.12']) {
      statuses.push(
        (await app.inject({ method: 'POST', url: '/api/whatsapp/webhook/', headers: from(ip) })).statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('lets requests through, with one warning, when the limiter’s Redis is unreachable', async () => {
    const capture = captureLog();
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const app = await build(await redisLimiter('unreachable', deadRedis, false), capture, 1);
    for (let i = 0; i < 5; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/whatsapp/webhook/',
        headers: from('198.51.100.4'),
      });
      expect(response.statusCode).toBe(200);
    }
    const warnings = capture.lines().filter((l) => l.msg?.startsWith('IP rate limiter unavailable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
  });

  it('is off with a limit of 0', async () => {
    const app = await build(createMemoryRateLimiter(), captureLog(), 0);
    for (let i = 0; i < 20; i++) {
      expect((await app.inject({ method: 'POST', url: '/api/whatsapp/webhook/' })).statusCode).toBe(200);
    }
  });
});
