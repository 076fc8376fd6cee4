import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { adminClient } from './client.js';

const PASSWORD = 'correct horse battery';

// TLS ends at a proxy: the app is reached over http, with an http PUBLIC_BASE_URL, but the browser is on https.
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ TRUST_PROXY: 'true' });
  await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
});
afterAll(async () => {
  await app.stop();
});

describe('admin cookies behind an HTTPS proxy (TRUST_PROXY=true)', () => {
  it('marks the session and login CSRF cookies Secure when X-Forwarded-Proto is https', async () => {
    const client = adminClient(app.url, { headers: { 'x-forwarded-proto': 'https' } });
    const page = await client.get('/admin/login');
    expect(page.setCookies.find((c) => c.startsWith('chatbot_admin_login='))).toMatch(/;\s*Secure/i);
    const response = await client.login('ada', PASSWORD);
    expect(response.status).toBe(303);
    const session = response.setCookies.find((c) => c.startsWith('chatbot_admin='));
    expect(session).toMatch(/;\s*Secure/i);
  });

  it('leaves them without Secure for a plain http request', async () => {
    const client = adminClient(app.url);
    const response = await client.login('ada', PASSWORD);
    expect(response.status).toBe(303);
    expect(response.setCookies.find((c) => c.startsWith('chatbot_admin='))).not.toMatch(/Secure/i);
  });
});
