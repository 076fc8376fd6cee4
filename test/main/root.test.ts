/**
 * `GET /` of the web role, as `npm start` serves it: whoever opens the printed address lands on the simulator,
 * else the admin, else reads which endpoints there are. And the address printed is one a browser can open.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { browsableUrl } from '../../src/main/run.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('GET / of the web role', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  const root = (a: TestApp) => fetch(`${a.url}/`, { redirect: 'manual' });

  it('redirects to the simulator when it runs', async () => {
    app = await startTestApp({ SIMULATOR_ENABLED: 'true', ADMIN_ENABLED: 'true' });
    const response = await root(app);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/simulator/');
  });

  it('redirects to the admin when only the admin runs', async () => {
    app = await startTestApp({ SIMULATOR_ENABLED: 'false', ADMIN_ENABLED: 'true' });
    const response = await root(app);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/admin/');
  });

  it('names the endpoints when neither runs', async () => {
    app = await startTestApp({ SIMULATOR_ENABLED: 'false', ADMIN_ENABLED: 'false' });
    const response = await root(app);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('/api/whatsapp/webhook/');
  });
});

describe('the address the start banner prints', () => {
  const bound = (port: number) => ({ address: '0.0.0.0', family: 'IPv4', port });
  it('is localhost for a wildcard listen address, the host itself otherwise', () => {
    expect(browsableUrl('0.0.0.0', bound(8000))).toBe('http://localhost:8000');
    expect(browsableUrl('::', bound(8000))).toBe('http://localhost:8000');
    expect(browsableUrl('127.0.0.1', bound(8123))).toBe('http://127.0.0.1:8123');
    expect(browsableUrl('::1', bound(8000))).toBe('http://[::1]:8000');
  });
});
