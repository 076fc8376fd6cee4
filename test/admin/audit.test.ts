import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { insertAudit } from '../../src/db/audit-log.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { adminClient, csrfOf, type AdminClient } from './client.js';

const PASSWORD = 'correct horse battery';
const KEY = 'sk-audit-secret-key-0123456789';
let app: TestApp;

interface Row extends Record<string, unknown> {
  actor_kind: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}
const rows = (action: string) =>
  app.query<Row>('select * from audit_log where action = $1 order by created_at, id', [action]);

async function signedIn(username: string): Promise<AdminClient> {
  const client = adminClient(app.url);
  expect((await client.login(username, PASSWORD)).status).toBe(303);
  return client;
}

beforeAll(async () => {
  app = await startTestApp({ FIELD_ENCRYPTION_KEY: generateFieldKey() }, ['web']);
  const db = app.running.composed.database.db;
  await createAdminUser(db, { username: 'boss', password: PASSWORD });
  await createAdminUser(db, { username: 'agnes', password: PASSWORD, role: 'agent' });
});
afterAll(async () => {
  await app.stop();
});

describe('audit of sign-ins', () => {
  it('records a success with the account and IP, a failure with the typed username and IP, never the password', async () => {
    const wrong = 'not-the-password-42';
    expect((await adminClient(app.url).login('boss', wrong)).status).toBe(401);
    expect((await adminClient(app.url).login('nobody', wrong)).status).toBe(401);
    const boss = await signedIn('boss');

    const failures = await rows('login.failure');
    expect(failures.map((r) => r.actor_name)).toEqual(['boss', 'nobody']);
    for (const failure of failures) {
      expect(failure).toMatchObject({ actor_kind: 'user', actor_id: null });
      expect(failure.ip).toMatch(/127\.0\.0\.1/);
      expect(failure.details).toEqual({ username: failure.actor_name, reason: 'wrong-credentials' });
    }
    const [success] = await rows('login.success');
    const [account] = await app.query<{ id: string }>("select id from admin_users where username = 'boss'");
    expect(success).toMatchObject({
      actor_kind: 'user',
      actor_id: account!.id,
      actor_name: 'boss',
      target_type: 'account',
      target_id: account!.id,
    });
    expect(success!.ip).toMatch(/127\.0\.0\.1/);
    const everything = JSON.stringify(await app.query('select * from audit_log'));
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);

    await boss.get('/admin/');
    expect((await boss.post('/admin/logout', { _csrf: boss.csrf() })).status).toBe(303);
    expect(await rows('logout')).toMatchObject([{ actor_name: 'boss', actor_id: account!.id }]);
  });
});

describe('audit of AI configuration changes in the admin', () => {
  it('records create, update, activate, deactivate and delete with the admin as actor and no key', async () => {
    const admin = await signedIn('boss');
    const form = await admin.get('/admin/ai-configs/new');
    const fields = {
      name: 'audited',
      provider: 'openai-compatible',
      model: 'first-model',
      baseUrl: app.llm.openaiBaseUrl,
      systemPrompt: '',
      temperature: '',
      maxTokens: '',
    };
    expect(
      (await admin.post('/admin/ai-configs', { _csrf: csrfOf(form.body)!, ...fields, apiKey: KEY })).status,
    ).toBe(303);
    const [{ id }] = (await app.query<{ id: string }>(
      "select id from ai_configurations where name = 'audited'",
    )) as [{ id: string }];
    const csrf = admin.csrf();
    const newKey = `${KEY}-new`;
    await admin.post(`/admin/ai-configs/${id}`, {
      _csrf: csrf,
      ...fields,
      model: 'second-model',
      apiKey: newKey,
    });
    app.llm.respondOnce({ text: 'ok' });
    expect((await admin.post(`/admin/ai-configs/${id}/activate`, { _csrf: csrf })).status).toBe(303);
    await admin.post(`/admin/ai-configs/${id}/deactivate`, { _csrf: csrf });
    await admin.post(`/admin/ai-configs/${id}/delete`, { _csrf: csrf });

    const audited = await app.query<Row>(
      "select * from audit_log where action like 'ai-config.%' order by created_at, id",
    );
    expect(audited.map((r) => r.action)).toEqual([
      'ai-config.create',
      'ai-config.update',
      'ai-config.activate',
      'ai-config.deactivate',
      'ai-config.delete',
    ]);
    for (const row of audited) {
      expect(row).toMatchObject({
        actor_kind: 'user',
        actor_name: 'boss',
        target_type: 'ai-config',
        target_id: id,
      });
      expect(row.ip).toMatch(/127\.0\.0\.1/);
    }
    expect(audited[0]!.details).toEqual({
      name: 'audited',
      provider: 'openai-compatible',
      model: 'first-model',
      hasKey: true,
      vision: null,
      voiceAnswers: false,
    });
    expect(audited[1]!.details).toMatchObject({
      model: 'second-model',
      changed: ['model', 'apiKey'],
      apiKey: 'replaced',
    });
    expect(audited[2]!.details).toMatchObject({ forced: false });
    const text = JSON.stringify(audited);
    expect(text).not.toContain(KEY.slice(3, 20));
  });
});

describe('the audit page', () => {
  it('shows the entries to an admin, newest first, linking a conversation target, and 403s an agent', async () => {
    const db = app.running.composed.database.db;
    const conversationId = '00000000-0000-4000-8000-00000000abcd';
    await insertAudit(db, {
      actor: { kind: 'user', id: null, name: 'agnes <b>', role: 'agent', ip: '10.1.2.3' },
      action: 'conversation.mode',
      target: { type: 'conversation', id: conversationId },
      details: { mode: 'human' },
    });
    const admin = await signedIn('boss');
    const page = await admin.get('/admin/audit');
    expect(page.status).toBe(200);
    expect(page.body).toContain(`href="/admin/conversations/${conversationId}"`);
    expect(page.body).toContain('agnes &lt;b&gt;');
    expect(page.body).toContain('10.1.2.3');
    expect(page.body).toContain('mode=human');
    expect(page.body).toContain('login.failure');
    // Newest first: the sign-in just made comes before the row inserted above, which comes before older ones.
    const order = ['login.success', 'conversation.mode', 'ai-config.delete'].map((a) =>
      page.body.indexOf(`<code>${a}</code>`),
    );
    expect(order.every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(page.body).not.toContain(KEY.slice(3, 20));

    const filtered = await admin.get('/admin/audit?action=login');
    expect(filtered.body).toContain('login.failure');
    expect(filtered.body).toContain('login.success');
    expect(filtered.body).not.toContain('<code>ai-config.create</code>');
    const byActor = await admin.get('/admin/audit?actor=nobody');
    expect(byActor.body.match(/<code>[a-z.-]+<\/code>/g)).toEqual(['<code>login.failure</code>']);

    const agent = await signedIn('agnes');
    expect((await agent.get('/admin/audit')).status).toBe(403);
  });

  it('pages with "older" links: every entry once, none skipped, even within one millisecond', async () => {
    const db = app.running.composed.database.db;
    // clock_timestamp() gives every row its own microsecond; 120 rows land within very few milliseconds.
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        insertAudit(db, { actor: SYSTEM_ACTOR, action: 'test.page', details: { n: i } }),
      ),
    );
    const admin = await signedIn('boss');
    const seen: number[] = [];
    let path: string | null = '/admin/audit?action=test.page';
    let pages = 0;
    while (path && pages < 10) {
      const page = await admin.get(path);
      expect(page.status).toBe(200);
      pages += 1;
      seen.push(...[...page.body.matchAll(/n=(\d+)/g)].map((m) => Number(m[1])));
      const older = /href="([^"]+)" rel="next">Older/.exec(page.body)?.[1];
      path = older ? older.replaceAll('&amp;', '&') : null;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
  });
});
