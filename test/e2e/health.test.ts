import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

interface Health {
  status: string;
  down?: string[];
  checks: Record<string, { status: string }>;
}

async function health(app: TestApp): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${app.url}/health/`);
  return { status: response.status, body: (await response.json()) as Health };
}

describe('GET /health/ when a dependency goes away', () => {
  let app: TestApp;
  let redisProxy: TcpProxy;
  let databaseProxy: TcpProxy;

  beforeAll(async () => {
    redisProxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    databaseProxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    app = await startTestApp(
      ({ databaseUrl }) => {
        const url = new URL(databaseUrl);
        url.port = String(databaseProxy.port);
        return { DATABASE_URL: url.toString(), REDIS_URL: `redis://127.0.0.1:${redisProxy.port}/0` };
      },
      ['web'],
    );
  });
  afterAll(async () => {
    await app.stop();
    await Promise.all([redisProxy.close(), databaseProxy.close()]);
  });

  it('is 200 while everything is up', async () => {
    expect((await health(app)).status).toBe(200);
  });

  it('is 503 naming Redis while Redis is unreachable, and recovers', async () => {
    await redisProxy.cut();
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.down).toContain('redis');
    expect(down.body.checks.database!.status).toBe('up');
    await redisProxy.restore();
    await expect.poll(async () => (await health(app)).status, { timeout: 10_000, interval: 200 }).toBe(200);
  });

  it('is 503 naming the database while PostgreSQL is unreachable, and recovers', async () => {
    await databaseProxy.cut();
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.down).toEqual(['database']);
    await databaseProxy.restore();
    await expect.poll(async () => (await health(app)).status, { timeout: 10_000, interval: 200 }).toBe(200);
  });
});
