import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { registerIpRateLimit } from '../../src/http/ip-rate-limit.js';
import {
  CONTENT_SECURITY_POLICY,
  HSTS,
  registerSecurityHeaders,
  securityHeaders,
} from '../../src/http/security.js';
import { createServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(options: { publicBaseUrl?: string; trustProxy?: boolean; ipLimit?: number } = {}) {
  const server = createServer({
    log: silentLogger(),
    bodyLimitBytes: 1024,
    trustProxy: options.trustProxy ?? false,
  });
  registerSecurityHeaders(server, { publicBaseUrl: options.publicBaseUrl });
  if (options.ipLimit) {
    registerIpRateLimit(server, {
      max: options.ipLimit,
      windowSeconds: 60,
      log: silentLogger(),
    });
  }
  server.get('/health/', () => ({ status: 'healthy' }));
  server.get('/page', (_request, reply) => reply.type('text/html').send('<!doctype html><p>hi</p>'));
  server.get('/whoami', (request) => ({ ip: request.ip, protocol: request.protocol }));
  server.post('/echo', (request) => request.body);
  server.get('/broken', () => {
    throw new Error('boom');
  });
  server.get('/db-down', () => {
    throw new AppError('database_unavailable', 'could not store the inbound message');
  });
  app = server;
  await server.ready();
  return server;
}

function expectSecurityHeaders(headers: Record<string, unknown>) {
  const csp = String(headers['content-security-policy']);
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(csp).not.toContain('upgrade-insecure-requests');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-powered-by']).toBeUndefined();
}

describe('security headers', () => {
  it("are helmet's full set for our options, the same on every response", async () => {
    const server = await build();
    const first = await server.inject({ method: 'GET', url: '/page' });
    const second = await server.inject({ method: 'GET', url: '/nowhere' });
    const names = [
      'content-security-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'origin-agent-cluster',
      'referrer-policy',
      'x-content-type-options',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-frame-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
    ];
    expect(Object.keys(securityHeaders()).sort()).toEqual(names);
    for (const name of names) {
      expect(first.headers[name]).toBe(securityHeaders()[name]);
      expect(second.headers[name]).toBe(securityHeaders()[name]);
    }
    expect(first.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(first.headers['x-xss-protection']).toBe('0');
  });

  it('are on every kind of response: JSON, HTML, 404, 400, 413, 500, 503 and 429', async () => {
    const server = await build({ ipLimit: 8 });
    const responses = [
      await server.inject({ method: 'GET', url: '/health/' }),
      await server.inject({ method: 'GET', url: '/page' }),
      await server.inject({ method: 'GET', url: '/nowhere' }),
      await server.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      }),
      await server.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ big: 'x'.repeat(4096) }),
      }),
      await server.inject({ method: 'GET', url: '/broken' }),
      await server.inject({ method: 'GET', url: '/db-down' }),
    ];
    for (let i = 0; i < 4; i++) responses.push(await server.inject({ method: 'GET', url: '/page' }));
    // /health/ is not counted: the 8 allowed are /page … /db-down and two more pages.
    expect(responses.map((r) => r.statusCode)).toEqual([
      200, 200, 404, 400, 413, 500, 503, 200, 200, 429, 429,
    ]);
    for (const response of responses) expectSecurityHeaders(response.headers);
  });

  it('the policy is exactly the documented one', async () => {
    const server = await build();
    const response = await server.inject({ method: 'GET', url: '/page' });
    const directives = Object.fromEntries(
      String(response.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]): [string, string[]] => [name ?? '', values]),
    );
    expect(directives).toEqual(CONTENT_SECURITY_POLICY);
  });
});

describe('HSTS', () => {
  it('is not sent when the service is reached over plain HTTP', async () => {
    const server = await build({ publicBaseUrl: 'http://bot.local:8000' });
    const response = await server.inject({ method: 'GET', url: '/health/' });
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });

  it('is sent when the public base URL is https', async () => {
    const server = await build({ publicBaseUrl: 'https://bot.example.com' });
    const response = await server.inject({ method: 'GET', url: '/health/' });
    expect(response.headers['strict-transport-security']).toBe(HSTS);
  });

  it('is sent when a trusted proxy says the client used https', async () => {
    const server = await build({ trustProxy: true });
    const response = await server.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(response.headers['strict-transport-security']).toBe(HSTS);
    const plain = await server.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });

  it('is not sent when an untrusted client claims https in X-Forwarded-Proto', async () => {
    const server = await build({ trustProxy: false });
    const response = await server.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('trust proxy', () => {
  const forwarded = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' };

  it('without TRUST_PROXY the client address and protocol are the connection’s, whatever the headers say', async () => {
    const server = await build({ trustProxy: false });
    const response = await server.inject({
      method: 'GET',
      url: '/whoami',
      headers: forwarded,
      remoteAddress: '10.0.0.5',
    });
    expect(response.json()).toEqual({ ip: '10.0.0.5', protocol: 'http' });
  });

  it('with TRUST_PROXY the client address and protocol come from X-Forwarded-For / -Proto', async () => {
    const server = await build({ trustProxy: true });
    const response = await server.inject({
      method: 'GET',
      url: '/whoami',
      headers: forwarded,
      remoteAddress: '10.0.0.5',
    });
    expect(response.json()).toEqual({ ip: '203.0.113.9', protocol: 'https' });
  });
});
