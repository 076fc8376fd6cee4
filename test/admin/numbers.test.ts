/**
 * The admin's Numbers page on the real web process: add, list, edit, deactivate/reactivate and remove business
 * numbers through real forms (CSRF included); credentials stored encrypted and never shown back, an empty field
 * keeping the stored one; every change audited with the admin as actor and no secret; the refusals as form
 * errors; agents and viewers refused; and the web process answering a deactivation at once (its directory
 * re-read after the change, although its refresh interval is an hour).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiConfig } from '../../src/db/ai-configs.js';
import { createAdminUser } from '../../src/db/admin-users.js';
import { AppError } from '../../src/domain/errors.js';
import { addNumber, changeNumber, listNumbers, removeNumber } from '../../src/inbox/business-numbers.js';
import { createFieldCipher, parseFieldKey } from '../../src/security/field-encryption.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { adminClient, type AdminClient } from './client.js';

const PASSWORD = 'correct horse battery';
const FIELD_KEY = randomBytes(32).toString('base64');
const cipher = createFieldCipher(parseFieldKey(FIELD_KEY));
const META_ID = '106540352242922';
const SALES = 'whatsapp:+14155230051';
const ACCESS_TOKEN = 'EAAG-admin-access-token-0123456789';
const APP_SECRET = 'admin-app-secret-abcdef';
const VERIFY_TOKEN = 'admin-verify-token-xyz';
const WEBHOOK = '/api/whatsapp/webhook/';

let app: TestApp;

interface NumberRow extends Record<string, unknown> {
  id: string;
  channel: string;
  address: string;
  name: string | null;
  ai_config_id: string | null;
  credentials_encrypted: string | null;
  is_active: boolean;
}
const numberRow = async (address: string) =>
  (await app.query<NumberRow>('select * from business_numbers where address = $1', [address]))[0];
const credentialsOf = (row: NumberRow | undefined) =>
  JSON.parse(cipher.decrypt(row?.credentials_encrypted ?? '')) as Record<string, string>;

async function signedIn(username: string): Promise<AdminClient> {
  const client = adminClient(app.url);
  expect((await client.login(username, PASSWORD)).status).toBe(303);
  return client;
}

const emptyCredentials = { accessToken: '', appSecret: '', verifyToken: '', accountSid: '', authToken: '' };

beforeAll(async () => {
  app = await startTestApp(
    // An hour: only the admin's re-read after a change can make the web process see it in this test.
    { FIELD_ENCRYPTION_KEY: FIELD_KEY, AI_CONFIG_REFRESH_SECONDS: '3600' },
    ['web'],
  );
  const db = app.running.composed.database.db;
  await createAdminUser(db, { username: 'boss', password: PASSWORD });
  await createAdminUser(db, { username: 'agnes', password: PASSWORD, role: 'agent' });
  await createAdminUser(db, { username: 'vic', password: PASSWORD, role: 'viewer' });
  for (const name of ['sales', 'support'])
    await createAiConfig(db, cipher, {
      name,
      provider: 'openai',
      apiKey: `sk-${name}-key`,
      model: `${name}-model`,
    });
});
afterAll(async () => {
  await app.stop();
});

describe('admin Numbers page', () => {
  it('adds a Meta number with its persona and credentials: stored encrypted, never shown back, audited without them', async () => {
    const admin = await signedIn('boss');
    const form = await admin.get('/admin/numbers/new');
    expect(form.status).toBe(200);
    expect(form.body).toContain('<option value="sales"');
    const added = await admin.post('/admin/numbers', {
      _csrf: admin.csrf(),
      channel: 'meta',
      address: ` ${META_ID} `,
      name: 'Support line',
      aiConfig: 'support',
      ...emptyCredentials,
      accessToken: ACCESS_TOKEN,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
    });
    expect(added.status).toBe(303);
    expect(added.location).toBe('/admin/numbers?done=added');

    const row = await numberRow(META_ID);
    expect(row).toMatchObject({ channel: 'meta', name: 'Support line', is_active: true });
    expect(row?.credentials_encrypted).not.toContain(ACCESS_TOKEN);
    expect(credentialsOf(row)).toEqual({
      accessToken: ACCESS_TOKEN,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
    });

    const list = await admin.get('/admin/numbers?done=added');
    expect(list.body).toContain('Number added');
    expect(list.body).toContain(META_ID);
    expect(list.body).toContain('support');
    // The environment's number is listed, read-only.
    expect(list.body).toContain(BUSINESS_NUMBER);
    const edit = await admin.get(`/admin/numbers/${row?.id}`);
    expect(edit.status).toBe(200);
    expect(edit.body).toContain('stored (never shown)');
    for (const page of [list.body, edit.body])
      for (const secret of [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN]) expect(page).not.toContain(secret);

    const [audit] = await app.query<{
      actor_name: string;
      actor_kind: string;
      details: Record<string, unknown>;
    }>("select actor_name, actor_kind, details from audit_log where action = 'number.create'");
    expect(audit).toMatchObject({
      actor_kind: 'user',
      actor_name: 'boss',
      details: { channel: 'meta', address: META_ID, hasCredentials: true, aiConfig: 'support' },
    });
    const everything = JSON.stringify(await app.query('select * from audit_log'));
    for (const secret of [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN]) expect(everything).not.toContain(secret);
  });

  it('edits: empty credential fields keep the stored ones, a filled one replaces only itself; the persona changes', async () => {
    const admin = await signedIn('boss');
    const row = await numberRow(META_ID);
    await admin.get(`/admin/numbers/${row?.id}`);
    const saved = await admin.post(`/admin/numbers/${row?.id}`, {
      _csrf: admin.csrf(),
      name: 'Support line',
      aiConfig: 'sales',
      ...emptyCredentials,
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/admin/numbers/${row?.id}?done=saved`);
    const afterPersona = await numberRow(META_ID);
    expect(credentialsOf(afterPersona)).toEqual(credentialsOf(row));
    const [sales] = await app.query<{ id: string }>("select id from ai_configurations where name = 'sales'");
    expect(afterPersona?.ai_config_id).toBe(sales?.id);

    const newToken = `${ACCESS_TOKEN}-rotated`;
    await admin.post(`/admin/numbers/${row?.id}`, {
      _csrf: admin.csrf(),
      name: 'Support line',
      aiConfig: '',
      ...emptyCredentials,
      accessToken: newToken,
    });
    const afterToken = await numberRow(META_ID);
    expect(afterToken?.ai_config_id).toBeNull();
    expect(credentialsOf(afterToken)).toEqual({
      accessToken: newToken,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
    });
    const updates = await app.query<{ details: { changed: string[] } }>(
      "select details from audit_log where action = 'number.update' order by created_at, id",
    );
    expect(updates.map((u) => u.details.changed)).toEqual([['aiConfigId'], ['aiConfigId', 'credentials']]);
    expect(JSON.stringify(updates)).not.toContain(newToken);
  });

  it('shows what is wrong and stores nothing: a bad address, an unknown persona, the other channel’s credentials, a duplicate', async () => {
    const admin = await signedIn('boss');
    await admin.get('/admin/numbers/new');
    const attempts: Array<[Record<string, string>, string]> = [
      [{ channel: 'twilio', address: '+1 415 nope' }, 'is not a Twilio WhatsApp sender'],
      [{ channel: 'twilio', address: SALES, aiConfig: 'nobody' }, 'no AI configuration named'],
      [{ channel: 'twilio', address: SALES, accessToken: 'EAAG-x' }, 'a Twilio number takes no Access token'],
      [
        { channel: 'twilio', address: SALES, accountSid: 'AC' + 'ab'.repeat(16) },
        'needs both its account SID',
      ],
      [{ channel: 'meta', address: META_ID }, 'exists already'],
    ];
    for (const [fields, message] of attempts) {
      const page = await admin.post('/admin/numbers', {
        _csrf: admin.csrf(),
        name: '',
        aiConfig: '',
        ...emptyCredentials,
        ...fields,
      });
      expect(page.status, message).toBe(400);
      expect(page.body).toContain(message);
      // What was typed stays in the form, except credentials.
      expect(page.body).toContain(`value="${fields.address}"`);
      expect(page.body).not.toContain('EAAG-x');
    }
    expect(await app.query('select address from business_numbers')).toEqual([{ address: META_ID }]);
  });

  it('deactivation takes effect in the web process at once; reactivation too; remove deletes the row', async () => {
    const admin = await signedIn('boss');
    await admin.get('/admin/numbers/new');
    expect(
      (
        await admin.post('/admin/numbers', {
          _csrf: admin.csrf(),
          channel: 'twilio',
          address: '+14155230051',
          name: '',
          aiConfig: 'sales',
          ...emptyCredentials,
        })
      ).status,
    ).toBe(303);
    const row = await numberRow(SALES);
    expect(row).toMatchObject({ channel: 'twilio', address: SALES, credentials_encrypted: null });

    const stored = async (to: string) => {
      const params = inboundParams({ To: to, Body: 'anyone there?' });
      expect((await app.postSigned(WEBHOOK, params)).status).toBe(200);
      return (await app.query('select 1 from messages where provider_message_id = $1', [params.MessageSid]))
        .length;
    };
    expect(await stored(SALES)).toBe(1);

    expect((await admin.post(`/admin/numbers/${row?.id}/deactivate`, { _csrf: admin.csrf() })).location).toBe(
      '/admin/numbers?done=deactivated',
    );
    expect((await numberRow(SALES))?.is_active).toBe(false);
    expect(await stored(SALES)).toBe(0);
    const list = await admin.get('/admin/numbers?done=deactivated');
    expect(list.body).toContain('Number deactivated');
    expect(list.body).toContain(`/admin/numbers/${row?.id}/activate`);

    await admin.post(`/admin/numbers/${row?.id}/activate`, { _csrf: admin.csrf() });
    expect(await stored(SALES)).toBe(1);

    expect((await admin.post(`/admin/numbers/${row?.id}/delete`, { _csrf: admin.csrf() })).location).toBe(
      '/admin/numbers?done=removed',
    );
    expect(await numberRow(SALES)).toBeUndefined();
    const actions = await app.query<{ action: string; details: Record<string, unknown> }>(
      'select action, details from audit_log where target_id = $1 order by created_at, id',
      [row?.id],
    );
    expect(actions.map((a) => [a.action, a.details.active])).toEqual([
      ['number.create', true],
      ['number.update', false],
      ['number.update', true],
      ['number.delete', true],
    ]);
  });

  it('an environment number is deactivated by an inactive number at its address, and answers again when it is reactivated', async () => {
    const admin = await signedIn('boss');
    await admin.get('/admin/numbers/new');
    await admin.post('/admin/numbers', {
      _csrf: admin.csrf(),
      channel: 'twilio',
      address: BUSINESS_NUMBER,
      name: 'Main',
      aiConfig: '',
      ...emptyCredentials,
    });
    const row = await numberRow(BUSINESS_NUMBER);
    await admin.post(`/admin/numbers/${row?.id}/deactivate`, { _csrf: admin.csrf() });
    expect((await admin.get('/admin/numbers')).body).toContain('deactivated below');
    const params = inboundParams({ To: BUSINESS_NUMBER, Body: 'hello main' });
    expect((await app.postSigned(WEBHOOK, params)).status).toBe(200);
    const logged = await eventually('the webhook log row', async () => {
      const rows = await app.query<{ error: string | null }>(
        "select error from webhook_logs where body->>'MessageSid' = $1",
        [params.MessageSid],
      );
      return rows[0];
    });
    expect(logged.error).toBe('unknown business number');
    expect(
      await app.query('select 1 from messages where provider_message_id = $1', [params.MessageSid]),
    ).toEqual([]);
    await admin.post(`/admin/numbers/${row?.id}/activate`, { _csrf: admin.csrf() });
    const again = inboundParams({ To: BUSINESS_NUMBER, Body: 'hello again' });
    expect((await app.postSigned(WEBHOOK, again)).status).toBe(200);
    expect(
      await app.query('select 1 from messages where provider_message_id = $1', [again.MessageSid]),
    ).toHaveLength(1);
  });

  for (const username of ['agnes', 'vic'])
    it(`${username === 'agnes' ? 'an agent' : 'a viewer'} gets 403 on the pages and actions, sees no Numbers entry, changes nothing`, async () => {
      const client = await signedIn(username);
      const dashboard = await client.get('/admin/');
      expect(dashboard.body).not.toContain('href="/admin/numbers"');
      const csrf = client.csrf();
      const row = await numberRow(META_ID);
      for (const path of ['/admin/numbers', '/admin/numbers/new', `/admin/numbers/${row?.id}`])
        expect((await client.get(path)).status, path).toBe(403);
      const actions: Array<[string, Record<string, string>]> = [
        ['/admin/numbers', { channel: 'twilio', address: '+14155230099' }],
        [`/admin/numbers/${row?.id}`, { name: 'taken over', aiConfig: 'sales' }],
        [`/admin/numbers/${row?.id}/deactivate`, {}],
        [`/admin/numbers/${row?.id}/delete`, {}],
      ];
      for (const [path, form] of actions)
        expect((await client.post(path, { _csrf: csrf, ...form })).status, path).toBe(403);
      expect(await numberRow(META_ID)).toEqual(row);
      expect(await numberRow('whatsapp:+14155230099')).toBeUndefined();
    });

  it('the use cases themselves refuse a role without settings.manage (an API route or a script cannot skip it)', async () => {
    const deps = { db: app.running.composed.database.db, cipher };
    const viewer = { kind: 'user', id: null, name: 'vic', role: 'viewer', ip: null } as const;
    const agent = { ...viewer, name: 'agnes', role: 'agent' } as const;
    for (const actor of [viewer, agent]) {
      const refusals = [
        listNumbers(deps, actor),
        addNumber(deps, actor, { channel: 'twilio', address: '+14155230098' }),
        changeNumber(deps, actor, META_ID, { active: false }),
        removeNumber(deps, actor, META_ID),
      ];
      for (const refusal of refusals)
        await expect(refusal).rejects.toSatisfy(
          (error: unknown) => error instanceof AppError && error.kind === 'forbidden',
        );
    }
    expect((await numberRow(META_ID))?.is_active).toBe(true);
    expect(await numberRow('whatsapp:+14155230098')).toBeUndefined();
  });
});
