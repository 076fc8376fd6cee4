import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

interface Capture extends CapturedLog {
  /** Child loggers made so far. */
  children(): number;
}

/** The app's logger (captureLog), also counting the children made from it (pino's onChild hook). */
function capture(level: string): Capture {
  const captured = captureLog(level);
  let made = 0;
  captured.log.onChild = () => {
    made += 1;
  };
  return { ...captured, children: () => made };
}

async function build(captured: Capture): Promise<FastifyInstance> {
  const app = createServer({ log: captured.log, bodyLimitBytes: 1024, trustProxy: false });
  app.get('/quiet', (request) => {
    request.log.debug('below the level');
    return { ok: true };
  });
  app.get('/talks', (request) => {
    request.log.warn({ detail: 1 }, 'first');
    request.log.error('second');
    return { ok: true };
  });
  app.get('/nested', (request) => {
    request.log.child({ step: 'inner' }).warn('from a child');
    return { ok: true };
  });
  apps.push(app);
  await app.ready();
  return app;
}

describe('per-request logger', () => {
  it('makes no child logger for a request that writes nothing at the level', async () => {
    const log = capture('warn');
    const app = await build(log);
    const before = log.children();
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/quiet' })).statusCode).toBe(200);
    expect(log.children() - before).toBe(0);
    expect(log.lines().filter((line) => line.msg === 'below the level')).toEqual([]);
  });

  it('writes lines that pass the level with the request id, making one child per request', async () => {
    const log = capture('warn');
    const app = await build(log);
    const before = log.children();
    const response = await app.inject({ url: '/talks', headers: { 'x-request-id': 'req-42' } });
    expect(response.statusCode).toBe(200);
    expect(log.children() - before).toBe(1);
    const lines = log.lines().filter((line) => line.requestId === 'req-42');
    expect(lines.map((line) => [line.msg, line.level])).toEqual([
      ['first', 40],
      ['second', 50],
    ]);
    expect(lines[0]?.detail).toBe(1);
  });

  it("keeps the request id in a child's lines", async () => {
    const log = capture('info');
    const app = await build(log);
    await app.inject({ url: '/nested', headers: { 'x-request-id': 'req-7' } });
    const line = log.lines().find((entry) => entry.msg === 'from a child');
    expect(line).toMatchObject({ requestId: 'req-7', step: 'inner' });
  });

  it('writes debug lines when the level allows them', async () => {
    const log = capture('debug');
    const app = await build(log);
    await app.inject({ url: '/quiet', headers: { 'x-request-id': 'req-9' } });
    expect(log.lines().find((line) => line.msg === 'below the level')).toMatchObject({
      requestId: 'req-9',
    });
  });
});
