import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { adminClient, csrfOf, type AdminClient } from './client.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const PASSWORD = 'correct horse battery';
const OPENAI_KEY = 'sk-live-0123456789abcdefSECRET';

let app: TestApp;
let client: AdminClient;
let sender = 0;
const newSender = () => `whatsapp:+1415666${String(1000 + sender++).padStart(4, '0')}`;

async function writeIn(from: string, body: string, profileName = 'Test User'): Promise<string> {
  const response = await app.postSigned(
    WEBHOOK,
    inboundParams({ From: from, To: BUSINESS_NUMBER, Body: body, ProfileName: profileName }),
  );
  expect(response.status).toBe(200);
  return eventually('the conversation row', async () => {
    const rows = await app.query<{ id: string }>('select id from conversations where user_address = $1', [
      from,
    ]);
    return rows[0]?.id;
  });
}

beforeAll(async () => {
  app = await startTestApp({ FIELD_ENCRYPTION_KEY: generateFieldKey(), OPENAI_API_KEY: OPENAI_KEY });
  await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
  await createAdminUser(app.running.composed.database.db, { username: 'limited', password: PASSWORD });
});
afterAll(async () => {
  await app.stop();
});
beforeEach(async () => {
  app.llm.reset();
  client = adminClient(app.url);
  const response = await client.login('ada', PASSWORD);
  expect(response.status).toBe(303);
});

describe('admin sign-in', () => {
  it('signs in with the right password: a signed, httpOnly, SameSite=Lax session cookie stored hashed in PostgreSQL', async () => {
    const fresh = adminClient(app.url);
    const response = await fresh.login('ada', PASSWORD);
    expect(response.status).toBe(303);
    expect(response.location).toBe('/admin/');
    const line = response.setCookies.find((c) => c.startsWith('chatbot_admin='))!;
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect(line).toMatch(/Path=\/admin/);
    expect(line).not.toMatch(/Secure/i); // the test app's public URL is http
    const value = decodeURIComponent(fresh.cookies.get('chatbot_admin')!);
    const token = value.slice(0, value.lastIndexOf('.'));
    const rows = await app.query<{ id: string }>('select id from admin_sessions');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id)).not.toContain(token);

    const dashboard = await fresh.get('/admin/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('<h1>Dashboard</h1>');
  });

  it('refuses a wrong password without a session, and never echoes the password', async () => {
    const fresh = adminClient(app.url);
    const response = await fresh.login('ada', 'wrong password 123');
    expect(response.status).toBe(401);
    expect(response.body).toContain('Wrong username or password');
    expect(response.body).not.toContain('wrong password 123');
    expect(fresh.cookies.has('chatbot_admin')).toBe(false);
    expect((await fresh.get('/admin/')).status).toBe(303);
  });

  it('refuses a login form without its CSRF token', async () => {
    const fresh = adminClient(app.url);
    await fresh.get('/admin/login');
    const response = await fresh.post('/admin/login', { username: 'ada', password: PASSWORD });
    expect(response.status).toBe(403);
    expect(fresh.cookies.has('chatbot_admin')).toBe(false);
  });

  it('locks out an IP and username after 5 wrong passwords: then even the right password is refused', async () => {
    const fresh = adminClient(app.url);
    for (let i = 0; i < 5; i++)
      expect((await fresh.login('limited', `wrong password ${i}`)).status).toBe(401);
    const blocked = await fresh.login('limited', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toContain('Too many failed sign-in attempts');
    // Seconds until the lockout ends: at most the 15-minute window, and most of it still to go.
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(15 * 60 - 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(fresh.cookies.has('chatbot_admin')).toBe(false);
    // Another account from the same address is not locked out by it.
    expect((await adminClient(app.url).login('ada', PASSWORD)).status).toBe(303);
  });

  it('ignores a session cookie whose signature was altered', async () => {
    const value = decodeURIComponent(client.cookies.get('chatbot_admin')!);
    client.cookies.set('chatbot_admin', encodeURIComponent(`${value.slice(0, -2)}xx`));
    const response = await client.get('/admin/');
    expect(response.status).toBe(303);
    expect(response.location).toMatch(/^\/admin\/login/);
  });

  it('logs out: the session row is deleted and the old cookie no longer opens a page', async () => {
    const cookie = client.cookies.get('chatbot_admin')!;
    await client.get('/admin/');
    const response = await client.post('/admin/logout', { _csrf: client.csrf() });
    expect(response.status).toBe(303);
    expect(response.location).toBe('/admin/login?bye=1');
    const replay = adminClient(app.url);
    replay.cookies.set('chatbot_admin', cookie);
    expect((await replay.get('/admin/')).status).toBe(303);
  });
});

describe('admin pages', () => {
  it('require a session: every page redirects to the login, every action is refused', async () => {
    const id = await writeIn(newSender(), 'hello');
    const anonymous = adminClient(app.url);
    for (const path of [
      '/admin/',
      '/admin/conversations',
      `/admin/conversations/${id}`,
      '/admin/ai-configs',
      '/admin/ai-configs/new',
      '/admin/webhook-logs',
    ]) {
      const response = await anonymous.get(path);
      expect(response.status, path).toBe(303);
      expect(response.location, path).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    }
    for (const path of [`/admin/conversations/${id}/pause`, '/admin/ai-configs', '/admin/logout']) {
      const response = await anonymous.post(path, { _csrf: 'x', name: 'x' });
      expect(response.status, path).toBe(303);
      expect(response.location, path).toBe('/admin/login');
    }
    const [row] = await app.query<{ mode: string }>('select mode from conversations where id = $1', [id]);
    expect(row!.mode).toBe('bot');
  });

  it('sends a page past the last one to the last page, filters kept (conversations and webhook logs)', async () => {
    await writeIn(newSender(), 'hello');
    const [counts] = await app.query<{ conversations: number; logs: number }>(
      `select (select count(*)::int from conversations) as conversations,
        (select count(*)::int from webhook_logs where kind = 'inbound') as logs`,
    );
    const lastConversations = Math.ceil(counts!.conversations / 25);
    const past = await client.get('/admin/conversations?filter=all&page=99');
    expect(past.status).toBe(302);
    expect(past.location).toBe(`/admin/conversations?filter=all&page=${lastConversations}`);
    const last = await client.get(past.location!);
    expect(last.status).toBe(200);
    expect(last.body).not.toContain('No conversations yet');
    expect(last.body).not.toContain('page 99');

    const lastLogs = Math.ceil(counts!.logs / 50);
    const pastLogs = await client.get('/admin/webhook-logs?kind=inbound&page=99');
    expect(pastLogs.status).toBe(302);
    expect(pastLogs.location).toBe(`/admin/webhook-logs?kind=inbound&page=${lastLogs}`);
    expect((await client.get(pastLogs.location!)).status).toBe(200);

    // A page that exists, and the first page of an empty result, are answered as they are.
    expect((await client.get(`/admin/conversations?page=${lastConversations}`)).status).toBe(200);
    expect((await client.get('/admin/conversations?q=nobody-matches-this&page=1')).status).toBe(200);
  });

  it('refuses a POST without the session CSRF token, and accepts it with the token', async () => {
    const id = await writeIn(newSender(), 'hello');
    const page = await client.get(`/admin/conversations/${id}`);
    expect((await client.post(`/admin/conversations/${id}/pause`, {})).status).toBe(403);
    expect((await client.post(`/admin/conversations/${id}/pause`, { _csrf: 'forged' })).status).toBe(403);
    const mode = () => app.query<{ mode: string }>('select mode from conversations where id = $1', [id]);
    expect((await mode())[0]!.mode).toBe('bot');
    const ok = await client.post(`/admin/conversations/${id}/pause`, { _csrf: csrfOf(page.body)! });
    expect(ok.status).toBe(303);
    expect((await mode())[0]!.mode).toBe('paused');
  });

  it('escapes a hostile message body and profile name on the list and the thread pages', async () => {
    const from = newSender();
    const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    const id = await writeIn(from, hostile, '"><b onmouseover=alert(3)>Mallory</b>');
    for (const path of [`/admin/conversations/${id}`, '/admin/conversations']) {
      const page = await client.get(path);
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<script>alert(1)');
      expect(page.body).not.toContain('<img src=x');
      expect(page.body).not.toContain('<b onmouseover');
      expect(page.body).toContain('&lt;b onmouseover=alert(3)&gt;Mallory&lt;/b&gt;');
    }
    const thread = await client.get(`/admin/conversations/${id}`);
    expect(thread.body).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;',
    );
    expect(thread.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(thread.headers.get('cache-control')).toBe('no-store');
  });

  it('shows a location, a tapped button and a quote from the webhook as such', async () => {
    const from = newSender();
    const id = await writeIn(from, 'hello');
    const post = async (extra: Record<string, string>) => {
      const response = await app.postSigned(
        WEBHOOK,
        inboundParams({ From: from, To: BUSINESS_NUMBER, ...extra }),
      );
      expect(response.status).toBe(200);
    };
    await post({
      Body: '',
      MessageType: 'location',
      Latitude: '51.51322977399644',
      Longitude: '-0.2197976373036567',
      Label: 'The Harrow Club',
    });
    await post({
      Body: 'Konfirmasi',
      MessageType: 'interactive',
      ButtonText: 'Konfirmasi',
      ButtonPayload: 'confirm<1>',
      OriginalRepliedMessageSid: 'MM5cc44eecf7dab0d48d4529d0fa4af44d',
    });
    const page = await eventually('the three messages in the thread', async () => {
      const response = await client.get(`/admin/conversations/${id}`);
      return response.body.includes('Konfirmasi') ? response : undefined;
    });
    expect(page.body).toContain(
      'href="https://www.openstreetmap.org/?mlat=51.51322977399644&amp;mlon=-0.2197976373036567',
    );
    expect(page.body).toContain('>The Harrow Club</a>');
    expect(page.body).toContain('<code title="payload">confirm&lt;1&gt;</code>');
    expect(page.body).toContain('<blockquote class="content-quote">an earlier message</blockquote>');
    const [stored] = await app.query<{ content: string; content_type: string }>(
      `select content, content_type from messages where conversation_id = $1 and content_type = 'location'`,
      [id],
    );
    expect(stored).toEqual({
      content: '[Shared location: The Harrow Club, coordinates 51.51322977399644, -0.2197976373036567]',
      content_type: 'location',
    });
  });

  it('shows the thread with the model, tokens and delivery status of each reply', async () => {
    const from = newSender();
    app.llm.respond(() => ({ text: 'Hi, I am the model', usage: { input: 17, output: 5 } }));
    const id = await writeIn(from, 'Hello bot');
    await eventually('the reply to be sent', async () => {
      // Past 'sending' (the part is stored claimed for sending): Twilio answered, the status stays put.
      const rows = await app.query(
        'select 1 from deliveries where conversation_id = $1 and status not in ($2, $3)',
        [id, 'pending', 'sending'],
      );
      return rows.length > 0 ? true : undefined;
    });
    const page = await client.get(`/admin/conversations/${id}`);
    expect(page.body).toContain('Hi, I am the model');
    expect(page.body).toContain('gpt-test');
    expect(page.body).toContain('17 in · 5 out tokens');
    const [delivery] = await app.query<{ status: string }>(
      'select status from deliveries where conversation_id = $1',
      [id],
    );
    expect(page.body).toContain(`<ul class="deliveries" aria-label="Delivery">`);
    expect(page.body).toMatch(new RegExp(`class="badge badge-\\w+">${delivery!.status}</span>`));
  });

  it('an opted-out user: the page says so, the composer is disabled, a reply is refused (409) and a reset keeps it', async () => {
    const from = newSender();
    const id = await writeIn(from, 'STOP');
    await eventually('the opt-out confirmation', () =>
      Promise.resolve(app.twilio.sent.some((m) => m.to === from) || undefined),
    );
    const page = await client.get(`/admin/conversations/${id}`);
    expect(page.body).toMatch(/Opted out since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(keyword STOP\)/);
    expect(page.body).toMatch(/<textarea[^>]*disabled/);
    const csrf = csrfOf(page.body)!;
    const refused = await client.post(`/admin/conversations/${id}/messages`, {
      _csrf: csrf,
      text: 'are you still there?',
      requestKey: '0f6d5f2e-3f64-4a8e-9d1a-3c1f5b2a7e10',
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('opted out');
    expect(app.twilio.sent.filter((m) => m.to === from)).toHaveLength(1);
    const reset = await client.post(`/admin/conversations/${id}/reset-context`, { _csrf: csrf });
    expect(reset.location).toBe(`/admin/conversations/${id}?done=reset`);
    expect((await client.get(`/admin/conversations/${id}`)).body).toContain('Opted out since');
  });

  it('resets the context: the next model request no longer carries the earlier turns', async () => {
    const from = newSender();
    app.llm.respond(() => ({ text: 'noted' }));
    const id = await writeIn(from, 'My name is Ada');
    await eventually('the first reply', () =>
      Promise.resolve(app.twilio.sent.some((m) => m.to === from) || undefined),
    );
    const page = await client.get(`/admin/conversations/${id}`);
    const response = await client.post(`/admin/conversations/${id}/reset-context`, {
      _csrf: csrfOf(page.body)!,
    });
    expect(response.location).toBe(`/admin/conversations/${id}?done=reset`);
    app.llm.reset();
    app.llm.respond(() => ({ text: 'who?' }));
    await writeIn(from, 'What is my name?');
    const request = await eventually('the second model request', () => Promise.resolve(app.llm.requests[0]));
    expect(request.messages.filter((m) => m.role !== 'system')).toEqual([
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('searches conversations by name and number and paginates 25 per page', async () => {
    await app.query(
      `insert into conversations (channel, user_address, profile_name)
       select 'twilio', 'whatsapp:+1999000' || lpad(n::text, 4, '0'), 'Pager ' || n from generate_series(1, 30) n`,
    );
    const first = await client.get('/admin/conversations?q=Pager');
    expect(first.body).toContain('30 matching');
    expect(first.body).toContain('1–25 of 30');
    expect(first.body.match(/<tr>/g)!.length).toBe(26); // header + 25
    expect(first.body).toContain('href="/admin/conversations?q=Pager&amp;page=2"');
    const second = await client.get('/admin/conversations?q=Pager&page=2');
    expect(second.body).toContain('26–30 of 30');
    const byNumber = await client.get('/admin/conversations?q=%2B19990000007');
    expect(byNumber.body).toContain('Pager 7');
    expect(byNumber.body).toContain('1 matching');
    const none = await client.get('/admin/conversations?q=nobody-like-this');
    expect(none.body).toContain('No conversation matches');
  });

  it('shows the dashboard figures for today', async () => {
    const page = await client.get('/admin/');
    expect(page.status).toBe(200);
    for (const label of [
      'Messages received',
      'Active conversations',
      'Queue',
      'LLM latency (avg)',
      'Tokens',
      'Failed deliveries',
      'AI fallbacks',
    ]) {
      expect(page.body).toContain(label);
    }
    const [count] = await app.query<{ n: number }>(
      `select count(*)::int as n from messages where role = 'user' and created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`,
    );
    expect(page.body).toMatch(
      new RegExp(`Messages received</p>\\s*<p class="stat-value">${count!.n.toLocaleString('en-US')}</p>`),
    );
  });
});

describe('AI configurations page', () => {
  it('creates a configuration whose key is shown only masked, tests it live, and reports a failure by kind', async () => {
    const form = await client.get('/admin/ai-configs/new');
    const key = 'sk-admin-test-key-abcdef123456';
    const created = await client.post('/admin/ai-configs', {
      _csrf: csrfOf(form.body)!,
      name: 'Fake OpenAI',
      provider: 'openai-compatible',
      model: 'model-from-admin',
      apiKey: key,
      baseUrl: app.llm.openaiBaseUrl,
      systemPrompt: '',
      temperature: '0.3',
      maxTokens: '',
    });
    expect(created.status).toBe(303);
    const list = await client.get('/admin/ai-configs');
    expect(list.body).toContain('Fake OpenAI');
    expect(list.body).not.toContain(key);
    expect(list.body).toContain('sk-adm…3456');
    const id = /href="\/admin\/ai-configs\/([0-9a-f-]{36})"/.exec(list.body)![1]!;
    const edit = await client.get(`/admin/ai-configs/${id}`);
    expect(edit.body).not.toContain(key);

    app.llm.respondOnce({ text: 'Yes, working.' });
    const ok = await client.post(`/admin/ai-configs/${id}/test`, {
      _csrf: csrfOf(edit.body)!,
      prompt: 'ping',
    });
    expect(ok.body).toContain('Yes, working.');
    expect(ok.body).toMatch(/model-from-admin<\/strong> answered in/);
    expect(app.llm.requests.at(-1)).toMatchObject({ model: 'model-from-admin' });
    expect(app.llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${key}`);

    app.llm.respondOnce({ status: 401 });
    const failed = await client.post(`/admin/ai-configs/${id}/test`, {
      _csrf: csrfOf(edit.body)!,
      prompt: 'ping',
    });
    expect(failed.body).toContain('ai_auth');
    expect(failed.body).toContain('The provider refused the API key.');
    expect(failed.body).not.toContain(key);
  });

  it('activation runs the live test: a working configuration is activated, a failing one is refused until "Activate anyway"', async () => {
    const activeNames = async () =>
      (await app.query<{ name: string }>('select name from ai_configurations where is_active')).map(
        (r) => r.name,
      );
    const createConfig = async (name: string, activate: boolean) => {
      const form = await client.get('/admin/ai-configs/new');
      return client.post('/admin/ai-configs', {
        _csrf: csrfOf(form.body)!,
        name,
        provider: 'openai-compatible',
        model: `${name}-model`,
        apiKey: 'sk-admin-activation-key-123456',
        baseUrl: app.llm.openaiBaseUrl,
        systemPrompt: '',
        temperature: '',
        maxTokens: '',
        ...(activate ? { activate: 'on' } : {}),
      });
    };
    const idOf = async (name: string) =>
      (await app.query<{ id: string }>('select id from ai_configurations where name = $1', [name]))[0]!.id;

    // Created with "Make this the active configuration": its live test answers, so it is activated.
    const working = await createConfig('Working', true);
    expect(working.status).toBe(303);
    expect(working.location).toBe('/admin/ai-configs?done=created-active');
    expect(app.llm.requests.at(-1)).toMatchObject({ model: 'Working-model' });
    expect(await activeNames()).toEqual(['Working']);

    // A second one whose provider refuses the key: Activate shows the failure and changes nothing.
    expect((await createConfig('Refused', false)).status).toBe(303);
    const id = await idOf('Refused');
    const page = await client.get(`/admin/ai-configs/${id}`);
    app.llm.respond(() => ({ status: 401, errorMessage: 'Incorrect API key provided' }));
    const refused = await client.post(`/admin/ai-configs/${id}/activate`, { _csrf: csrfOf(page.body)! });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('Not activated: its live test failed.');
    expect(refused.body).toContain('The provider refused the API key.');
    expect(refused.body).toContain('ai_auth');
    expect(refused.body).toMatch(
      new RegExp(
        `action="/admin/ai-configs/${id}/activate"[^>]*data-confirm=['"]Activate "Refused" although[\\s\\S]*?name="force" value="on"`,
      ),
    );
    expect(app.llm.requests.at(-1)).toMatchObject({ model: 'Refused-model' });
    expect(await activeNames()).toEqual(['Working']);

    // "Activate anyway" is a POST like the others: without the CSRF token it is refused too.
    expect((await client.post(`/admin/ai-configs/${id}/activate`, { force: 'on' })).status).toBe(403);
    expect(await activeNames()).toEqual(['Working']);
    const forced = await client.post(`/admin/ai-configs/${id}/activate`, {
      _csrf: csrfOf(refused.body)!,
      force: 'on',
    });
    expect(forced.status).toBe(303);
    expect(forced.location).toBe('/admin/ai-configs?done=activated-forced');
    expect((await client.get(forced.location!)).body).toContain('activated although its live test failed');
    expect(await activeNames()).toEqual(['Refused']);

    // Created with "activate" while the provider refuses: stored, shown with the failure, not activated.
    const createdRefused = await createConfig('Later', true);
    expect(createdRefused.status).toBe(409);
    expect(createdRefused.body).toContain('Created, but not activated: its live test failed.');
    expect(createdRefused.body).toContain('Activate anyway');
    expect(await activeNames()).toEqual(['Refused']);

    // Saved with "activate" once the provider answers again: activated.
    app.llm.reset();
    const laterId = await idOf('Later');
    const edit = await client.get(`/admin/ai-configs/${laterId}`);
    const saved = await client.post(`/admin/ai-configs/${laterId}`, {
      _csrf: csrfOf(edit.body)!,
      name: 'Later',
      provider: 'openai-compatible',
      model: 'later-model-2',
      apiKey: '',
      baseUrl: app.llm.openaiBaseUrl,
      systemPrompt: '',
      temperature: '',
      maxTokens: '',
      activate: 'on',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/admin/ai-configs?done=activated');
    expect(app.llm.requests.at(-1)).toMatchObject({ model: 'later-model-2' });
    expect(await activeNames()).toEqual(['Later']);
    await app.query('delete from ai_configurations');
  });

  it('shows the problems of an invalid configuration and keeps what was typed', async () => {
    const form = await client.get('/admin/ai-configs/new');
    const response = await client.post('/admin/ai-configs', {
      _csrf: csrfOf(form.body)!,
      name: 'Broken <b>',
      provider: 'openai',
      model: '',
      apiKey: '',
      baseUrl: 'not a url',
      temperature: '9',
      maxTokens: '',
      systemPrompt: '',
    });
    expect(response.status).toBe(400);
    expect(response.body).toContain('Please fix:');
    expect(response.body).toContain('temperature: must be a number from 0 to 2');
    expect(response.body).toContain('api key: required for the openai provider');
    expect(response.body).toContain('value="Broken &lt;b&gt;"');
  });
});

describe('webhook logs page', () => {
  it('filters by outcome and shows a payload with secrets redacted', async () => {
    await app.query(
      `insert into webhook_logs (channel, kind, method, path, headers, body, response_status, processing_time_ms, error)
       values ('twilio', 'inbound', 'POST', '/api/whatsapp/webhook/', $1, $2, 403, 1.5, 'bad signature')`,
      [
        JSON.stringify({
          authorization: 'Bearer abcdefgh12345678',
          'x-custom-token': 'tok_123456789',
          host: 'bot.example.com',
        }),
        JSON.stringify({
          Body: `my key is ${OPENAI_KEY}`,
          ApiKey: 'k-999999',
          From: 'whatsapp:+14155550100',
        }),
      ],
    );
    const refused = await client.get('/admin/webhook-logs?status=client-error');
    expect(refused.body).toContain('bad signature');
    const ok = await client.get('/admin/webhook-logs?status=ok');
    expect(ok.body).not.toContain('bad signature');
    const id = /href="\/admin\/webhook-logs\/([0-9a-f-]{36})"/.exec(refused.body)![1]!;
    const detail = await client.get(`/admin/webhook-logs/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toContain('bot.example.com');
    expect(detail.body).toContain('whatsapp:+14155550100');
    for (const secret of ['abcdefgh12345678', 'tok_123456789', OPENAI_KEY, 'k-999999'])
      expect(detail.body).not.toContain(secret);
    expect(detail.body).toContain('[redacted]');
  });

  it('answers 404 pages for unknown ids and unknown admin paths', async () => {
    expect((await client.get('/admin/webhook-logs/not-a-uuid')).status).toBe(404);
    expect((await client.get('/admin/conversations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await client.get('/admin/nothing-here')).status).toBe(404);
  });
});

describe('admin behind https', () => {
  it('marks the session cookie Secure when PUBLIC_BASE_URL is https', async () => {
    const secure = await startTestApp({ PUBLIC_BASE_URL: 'https://bot.example.com' }, ['web']);
    try {
      await createAdminUser(secure.running.composed.database.db, { username: 'ada', password: PASSWORD });
      const response = await adminClient(secure.url).login('ada', PASSWORD);
      expect(response.status).toBe(303);
      expect(response.setCookies.find((c) => c.startsWith('chatbot_admin='))).toMatch(/;\s*Secure/i);
    } finally {
      await secure.stop();
    }
  });
});
