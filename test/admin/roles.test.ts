import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser, setAdminUserRole } from '../../src/db/admin-users.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { adminClient, type AdminClient } from './client.js';

const PASSWORD = 'correct horse battery';
let app: TestApp;
let configId: string;

async function signedIn(username: string): Promise<AdminClient> {
  const client = adminClient(app.url);
  expect((await client.login(username, PASSWORD)).status).toBe(303);
  return client;
}

const navLinks = (body: string) =>
  [...body.matchAll(/<nav class="nav"[\s\S]*?<\/nav>/g)].join('').match(/href="[^"]+"/g) ?? [];

beforeAll(async () => {
  app = await startTestApp({ FIELD_ENCRYPTION_KEY: generateFieldKey() }, ['web']);
  const db = app.running.composed.database.db;
  await createAdminUser(db, { username: 'boss', password: PASSWORD });
  await createAdminUser(db, { username: 'agnes', password: PASSWORD, role: 'agent' });
  await createAdminUser(db, { username: 'vic', password: PASSWORD, role: 'viewer' });
  const rows = await app.query<{ id: string }>(
    `insert into ai_configurations (name, provider, model, base_url)
     values ('local', 'openai-compatible', 'm', 'http://127.0.0.1:9') returning id`,
  );
  configId = rows[0]!.id;
});
afterAll(async () => {
  await app.stop();
});

describe('roles in the admin', () => {
  it('an admin sees every navigation entry and opens every page', async () => {
    const admin = await signedIn('boss');
    const dashboard = await admin.get('/admin/');
    expect(dashboard.body).toContain('href="/admin/webhook-logs?status=error"');
    expect(navLinks(dashboard.body)).toEqual(
      expect.arrayContaining([
        'href="/admin/conversations"',
        'href="/admin/ai-configs"',
        'href="/admin/webhook-logs"',
        'href="/admin/audit"',
      ]),
    );
    for (const path of [
      '/admin/ai-configs',
      `/admin/ai-configs/${configId}`,
      '/admin/webhook-logs',
      '/admin/audit',
    ])
      expect((await admin.get(path)).status, path).toBe(200);
  });

  for (const username of ['agnes', 'vic']) {
    it(`${username === 'agnes' ? 'an agent' : 'a viewer'} gets 403 on AI configurations, webhook logs and the audit log, pages and actions`, async () => {
      const client = await signedIn(username);
      const dashboard = await client.get('/admin/');
      expect(dashboard.status).toBe(200);
      const csrf = client.csrf();
      for (const path of [
        '/admin/ai-configs',
        '/admin/ai-configs/new',
        `/admin/ai-configs/${configId}`,
        '/admin/webhook-logs',
        '/admin/audit',
      ]) {
        const page = await client.get(path);
        expect(page.status, path).toBe(403);
        expect(page.body).toContain('Not allowed');
      }
      const actions: Array<[string, Record<string, string>]> = [
        ['/admin/ai-configs', { name: 'sneaky', provider: 'openai-compatible', model: 'x' }],
        [`/admin/ai-configs/${configId}`, { name: 'renamed', provider: 'openai-compatible', model: 'x' }],
        [`/admin/ai-configs/${configId}/activate`, { force: 'on' }],
        [`/admin/ai-configs/${configId}/test`, { prompt: 'hi' }],
        [`/admin/ai-configs/${configId}/delete`, {}],
      ];
      for (const [path, form] of actions)
        expect((await client.post(path, { _csrf: csrf, ...form })).status, path).toBe(403);
      const rows = await app.query<{ name: string; is_active: boolean }>(
        'select name, is_active from ai_configurations',
      );
      expect(rows).toEqual([{ name: 'local', is_active: false }]);
    });
  }

  it('a viewer sees no AI, webhook or audit entry in the navigation, nor links to them on the dashboard', async () => {
    const viewer = await signedIn('vic');
    const dashboard = await viewer.get('/admin/');
    const links = navLinks(dashboard.body);
    expect(links).toContain('href="/admin/conversations"');
    expect(links.join(' ')).not.toMatch(/ai-configs|webhook-logs|audit/);
    expect(dashboard.body).not.toContain('href="/admin/webhook-logs');
    expect(dashboard.body).not.toContain('href="/admin/ai-configs');
  });

  it('a role changed while signed in applies at the next request', async () => {
    const db = app.running.composed.database.db;
    await createAdminUser(db, { username: 'promoted', password: PASSWORD, role: 'viewer' });
    const client = await signedIn('promoted');
    expect((await client.get('/admin/ai-configs')).status).toBe(403);
    await setAdminUserRole(db, 'promoted', 'admin');
    expect((await client.get('/admin/ai-configs')).status).toBe(200);
  });
});
