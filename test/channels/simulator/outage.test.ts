import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';

describe('simulator routes while the database is unreachable', () => {
  let app: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    app = await startTestApp(
      ({ databaseUrl }) => {
        const url = new URL(databaseUrl);
        url.port = String(proxy.port);
        return { DATABASE_URL: url.toString(), SIMULATOR_ENABLED: 'true' };
      },
      ['web'],
    );
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await app.stop();
    await proxy.close();
  });

  const post = () =>
    fetch(`${app.url}/simulator/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+14155550123', body: 'anyone there?' }),
    });

  it('a message is refused with 503 (the page can say so) and accepted again once the database is back', async () => {
    await proxy.cut();
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: 'database_unavailable', message: 'service unavailable' });
    const thread = await fetch(`${app.url}/simulator/api/conversations?address=%2B14155550123`);
    expect(thread.status).toBe(503);

    await proxy.restore();
    await expect.poll(async () => (await post()).status, { timeout: 15_000, interval: 250 }).toBe(202);
  });
});
