/**
 * The inbox over real sockets against the whole app (web, worker, scheduler, PostgreSQL, Redis, fake Twilio and
 * LLM): the "needs a human" list and its filters, assignment, internal notes, the composer through the outbound
 * path, roles, search across message text, and the live thread's event stream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { adminClient, type AdminClient } from './client.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const PASSWORD = 'correct horse battery';

let app: TestApp;
let ada: AdminClient;
let sender = 0;
const newSender = () => `whatsapp:+1415777${String(1000 + sender++).padStart(4, '0')}`;
const ids: Record<string, string> = {};

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

async function signedIn(username: string): Promise<AdminClient> {
  const client = adminClient(app.url);
  expect((await client.login(username, PASSWORD)).status).toBe(303);
  await client.get('/admin/');
  return client;
}

/** Put a conversation in human mode as if it had been handed over `minutesAgo` minutes ago. */
async function handedOver(id: string, minutesAgo: number, reason: string): Promise<void> {
  await app.query(
    `update conversations set mode = 'human', handoff_at = now() - make_interval(mins => $2), handoff_reason = $3
     where id = $1`,
    [id, minutesAgo, reason],
  );
}

const sentTo = (address: string) => app.twilio.sent.filter((m) => m.to === address);
const auditRows = (action: string, id: string) =>
  app.query<{ actor_name: string; details: Record<string, unknown> }>(
    `select actor_name, details from audit_log where action = $1 and target_id = $2 order by created_at`,
    [action, id],
  );

beforeAll(async () => {
  app = await startTestApp();
  const db = app.running.composed.database.db;
  for (const username of ['ada', 'bob', 'vic']) {
    const user = await createAdminUser(db, { username, password: PASSWORD });
    ids[username] = user.id;
  }
  await app.query(`update admin_users set role = 'agent' where username = 'bob'`);
  await app.query(`update admin_users set role = 'viewer' where username = 'vic'`);
});
afterAll(async () => {
  await app.stop();
});
beforeEach(async () => {
  app.llm.reset();
  ada = await signedIn('ada');
});

describe('needs a human', () => {
  it('lists human-mode conversations oldest handoff first with wait, reason and assignee; filters mine and unassigned', async () => {
    await app.query(`update conversations set mode = 'bot'`);
    const old = await writeIn(newSender(), 'first', 'Oldest Waiting');
    const recent = await writeIn(newSender(), 'second', 'Recent Waiting');
    const middle = await writeIn(newSender(), 'third', 'Middle Waiting');
    const bot = await writeIn(newSender(), 'fourth', 'Bot Handled');
    await handedOver(old, 125, 'keyword');
    await handedOver(recent, 3, 'model: angry customer');
    await handedOver(middle, 40, 'operator');
    await app.query('update conversations set assignee_id = $1 where id = $2', [ids.ada, middle]);

    const page = await ada.get('/admin/inbox');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Needs a human</h1>');
    const order = ['Oldest Waiting', 'Middle Waiting', 'Recent Waiting'].map((name) =>
      page.body.indexOf(name),
    );
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(page.body).not.toContain('Bot Handled');
    expect(page.body).toContain('2 h 5 min');
    expect(page.body).toContain('model: angry customer');
    expect(page.body).toContain('3 waiting');
    expect(page.body).not.toContain(`/admin/conversations/${bot}"`);

    const mine = await ada.get('/admin/inbox?filter=mine');
    expect(mine.body).toContain('Middle Waiting');
    expect(mine.body).not.toContain('Oldest Waiting');
    const unassigned = await ada.get('/admin/inbox?filter=unassigned');
    expect(unassigned.body).toContain('Oldest Waiting');
    expect(unassigned.body).toContain('Recent Waiting');
    expect(unassigned.body).not.toContain('Middle Waiting');
    // The navigation links to it.
    expect(page.body).toContain('href="/admin/inbox" aria-current="page"');
  });

  it('assigns to me from the inbox, to another agent, and unassigns; each change is audited', async () => {
    const id = await writeIn(newSender(), 'help me', 'Assign Me');
    await handedOver(id, 5, 'keyword');
    await ada.get('/admin/inbox?filter=unassigned');
    const mine = await ada.post(`/admin/conversations/${id}/assign`, {
      _csrf: ada.csrf(),
      assignee: 'me',
      return: 'inbox',
    });
    expect(mine.status).toBe(303);
    expect(mine.location).toBe('/admin/inbox?done=assigned');
    expect((await ada.get('/admin/inbox?filter=mine')).body).toContain('Assign Me');

    await ada.post(`/admin/conversations/${id}/assign`, { _csrf: ada.csrf(), assignee: ids.bob! });
    const bob = await signedIn('bob');
    expect((await bob.get('/admin/inbox?filter=mine')).body).toContain('Assign Me');
    const page = await ada.get(`/admin/conversations/${id}`);
    expect(page.body).toMatch(/Assigned to<\/dt>\s*<dd>bob<\/dd>/);

    // A viewer cannot be assigned; an unknown account neither.
    const toViewer = await ada.post(`/admin/conversations/${id}/assign`, {
      _csrf: ada.csrf(),
      assignee: ids.vic!,
    });
    expect(toViewer.status).toBe(400);

    await ada.post(`/admin/conversations/${id}/assign`, { _csrf: ada.csrf(), assignee: '' });
    const rows = await app.query<{ assignee_id: string | null }>(
      'select assignee_id from conversations where id = $1',
      [id],
    );
    expect(rows[0]?.assignee_id).toBeNull();
    const audited = await auditRows('conversation.assign', id);
    expect(audited.map((r) => [r.actor_name, r.details.to])).toEqual([
      ['ada', ids.ada],
      ['ada', ids.bob],
      ['ada', null],
    ]);
  });
});

describe('composer and mode', () => {
  it('sends as the operator through the outbound path, once for a double submit, signed with the name in the thread', async () => {
    const from = newSender();
    const id = await writeIn(from, 'Where is my order?', 'Composer User');
    await eventually('the bot reply', () => Promise.resolve(sentTo(from)[0]));

    const handed = await ada.post(`/admin/conversations/${id}/mode`, { _csrf: ada.csrf(), mode: 'human' });
    expect(handed.status).toBe(303);
    expect(handed.location).toBe(`/admin/conversations/${id}?done=handed`);
    await eventually('the handoff message', () => Promise.resolve(sentTo(from)[1]));
    const beforeReply = sentTo(from).length;

    const page = await ada.get(`/admin/conversations/${id}`);
    const requestKey = /name="requestKey" value="([^"]+)"/.exec(page.body)?.[1];
    expect(requestKey).toBeDefined();
    const form = { _csrf: ada.csrf(), requestKey: requestKey!, text: 'Hi, Ada here. How can I help?' };
    const [first, second] = await Promise.all([
      ada.post(`/admin/conversations/${id}/messages`, form),
      ada.post(`/admin/conversations/${id}/messages`, form),
    ]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(first.location).toBe(`/admin/conversations/${id}?done=sent#composer`);
    const sent = await eventually('the operator message at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === 'Hi, Ada here. How can I help?')),
    );
    expect(sent.from).toBe(BUSINESS_NUMBER);
    // The same key a third time, after the send: still nothing new.
    const json = await ada.post(`/admin/conversations/${id}/messages`, form, { accept: 'application/json' });
    expect(json.status).toBe(202);
    expect(JSON.parse(json.body)).toMatchObject({ created: false });
    // The same key with another text (a typo fixed after a failed try) is refused, not reported as sent.
    const edited = await ada.post(
      `/admin/conversations/${id}/messages`,
      { ...form, text: 'Hi, Ada here. How can I help you?' },
      { accept: 'application/json' },
    );
    expect(edited.status).toBe(409);
    await eventually('the delivery row sent', async () => {
      const rows = await app.query<{ status: string }>(
        `select d.status from deliveries d join messages m on m.id = d.message_id where m.author = $1`,
        [`operator:${ids.ada}`],
      );
      return rows[0] && rows[0].status !== 'pending' && rows[0].status !== 'sending' ? rows[0] : undefined;
    });
    expect(sentTo(from).filter((m) => m.body === 'Hi, Ada here. How can I help?')).toHaveLength(1);
    expect(sentTo(from)).toHaveLength(beforeReply + 1);
    // No model call for the operator's message.
    expect(
      app.llm.requests.filter((r) => r.messages.some((m) => m.content.includes('Ada here'))),
    ).toHaveLength(0);

    const thread = await ada.get(`/admin/conversations/${id}`);
    expect(thread.body).toContain('ada (operator)');
    expect(thread.body).toContain('Hi, Ada here. How can I help?');
    expect(await auditRows('conversation.reply', id)).toHaveLength(1);
    expect((await auditRows('conversation.mode', id)).map((r) => r.details.to)).toEqual(['human']);

    // The old paths still switch the mode, through the same use case.
    expect((await ada.post(`/admin/conversations/${id}/pause`, { _csrf: ada.csrf() })).location).toBe(
      `/admin/conversations/${id}?done=paused`,
    );
    expect((await ada.post(`/admin/conversations/${id}/resume`, { _csrf: ada.csrf() })).location).toBe(
      `/admin/conversations/${id}?done=resumed`,
    );
    expect((await auditRows('conversation.mode', id)).map((r) => r.details.to)).toEqual([
      'human',
      'paused',
      'bot',
    ]);
  });

  it('a viewer sees no forms and every POST is 403; an agent may reply but not reset the context', async () => {
    const from = newSender();
    const id = await writeIn(from, 'viewer check', 'Viewer Case');
    const vic = await signedIn('vic');
    const page = await vic.get(`/admin/conversations/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('viewer check');
    expect(page.body).not.toContain('<textarea');
    expect(page.body).not.toContain(`action="/admin/conversations/${id}/`);
    const csrf = vic.csrf();
    for (const [path, form] of [
      ['messages', { text: 'viewer text', requestKey: 'viewer-key-1' }],
      ['mode', { mode: 'human' }],
      ['pause', {}],
      ['assign', { assignee: 'me' }],
      ['notes', { body: 'viewer note' }],
      ['reset-context', {}],
    ] as const) {
      const response = await vic.post(`/admin/conversations/${id}/${path}`, { _csrf: csrf, ...form });
      expect(response.status, path).toBe(403);
    }
    const rows = await app.query('select 1 from messages where content = $1', ['viewer text']);
    expect(rows).toHaveLength(0);
    expect(await app.query('select 1 from conversation_notes where conversation_id = $1', [id])).toHaveLength(
      0,
    );

    const bob = await signedIn('bob');
    const bobPage = await bob.get(`/admin/conversations/${id}`);
    expect(bobPage.body).toContain('<textarea');
    expect(bobPage.body).not.toContain('Reset context');
    expect((await bob.post(`/admin/conversations/${id}/reset-context`, { _csrf: bob.csrf() })).status).toBe(
      403,
    );
    const reset = await ada.post(`/admin/conversations/${id}/reset-context`, { _csrf: ada.csrf() });
    expect(reset.status).toBe(303);
    expect((await auditRows('conversation.reset', id)).map((r) => r.actor_name)).toEqual(['ada']);
  });
});

describe('internal notes', () => {
  it('are shown to operators with author and time, and never reach the user nor the model', async () => {
    const from = newSender();
    app.llm.respond(() => ({ text: 'bot answer' }));
    const id = await writeIn(from, 'hello there', 'Notes User');
    await eventually('the first reply', () => Promise.resolve(sentTo(from)[0]));
    const secret = 'Customer is a VIP, offer the 20% discount code SECRET-NOTE-42';
    await ada.get(`/admin/conversations/${id}`);
    const added = await ada.post(`/admin/conversations/${id}/notes`, { _csrf: ada.csrf(), body: secret });
    expect(added.status).toBe(303);
    expect(added.location).toBe(`/admin/conversations/${id}?done=noted#notes`);
    const page = await ada.get(`/admin/conversations/${id}`);
    expect(page.body).toContain('SECRET-NOTE-42');
    expect(page.body).toMatch(/ada · <time/);
    expect((await auditRows('conversation.note', id)).map((r) => r.actor_name)).toEqual(['ada']);

    const asked = app.llm.requests.length;
    await writeIn(from, 'what about my order?', 'Notes User');
    await eventually('the second reply', () => Promise.resolve(sentTo(from)[1]));
    const request = app.llm.requests[asked];
    expect(request).toBeDefined();
    expect(JSON.stringify(request!.messages)).toContain('what about my order?');
    expect(JSON.stringify(app.llm.requests)).not.toContain('SECRET-NOTE-42');
    expect(app.twilio.sent.some((m) => m.body.includes('SECRET-NOTE-42'))).toBe(false);
    expect(
      await app.query('select 1 from messages where content like $1', ['%SECRET-NOTE-42%']),
    ).toHaveLength(0);
    // An empty note is refused.
    expect(
      (await ada.post(`/admin/conversations/${id}/notes`, { _csrf: ada.csrf(), body: '  ' })).status,
    ).toBe(400);
  });
});

describe('search across message text', () => {
  it('finds a conversation by a word (or its beginning) in one of its messages, with the matching snippet', async () => {
    const id = await writeIn(newSender(), 'My parcel with the blue umbrella never arrived', 'Search Target');
    await writeIn(newSender(), 'Nothing to see here', 'Other Person');
    const byWord = await ada.get('/admin/conversations?q=umbrella');
    expect(byWord.body).toContain(`/admin/conversations/${id}`);
    expect(byWord.body).toContain('1 matching');
    expect(byWord.body).toContain('<mark>umbrella</mark>');
    const byPrefix = await ada.get(`/admin/conversations?q=${encodeURIComponent('UMBREL parc')}`);
    expect(byPrefix.body).toContain('Search Target');
    expect(byPrefix.body).not.toContain('Other Person');
    // Query syntax is only text: no error, no match.
    const hostile = await ada.get(`/admin/conversations?q=${encodeURIComponent("umbrella') | !(:*")}`);
    expect(hostile.status).toBe(200);
    expect(hostile.body).toContain('Search Target');
    const none = await ada.get('/admin/conversations?q=zzzunknownword');
    expect(none.body).toContain('No conversation matches');
  });
});

describe('live thread events', () => {
  it('streams a new inbound message to an open page and ends the stream when the app closes', async () => {
    const from = newSender();
    const id = await writeIn(from, 'before the page opened', 'Live User');
    const controller = new AbortController();
    const cookie = [...ada.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${app.url}/admin/conversations/${id}/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (text: string) => {
      const deadline = Date.now() + 10_000;
      while (!received.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${text} in the stream`);
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        received += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('before the page opened');
    await writeIn(from, 'arrived <b>live</b>', 'Live User');
    await readUntil('arrived &lt;b&gt;live&lt;/b&gt;');
    const event = received.split('\n\n').find((e) => e.includes('arrived &lt;b&gt;live'))!;
    expect(event).toMatch(/^event: message\ndata: \{/);
    const data = JSON.parse(event.slice(event.indexOf('data: ') + 6)) as {
      id: string;
      version: string;
      html: string;
    };
    expect(data.html).toContain(`data-message-id="${data.id}"`);
    expect(data.html).not.toContain('<b>live</b>');
    // A row written by another process (here: another connection, as another replica's webhook would) reaches
    // the stream too: the poll reads PostgreSQL, not this process's memory.
    await app.query(
      `insert into messages (conversation_id, role, content, processing_status) values ($1, 'user', $2, 'skipped')`,
      [id, 'written by another replica'],
    );
    await readUntil('written by another replica');
    controller.abort();

    const anonymous = await fetch(`${app.url}/admin/conversations/${id}/events`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
  });
});

describe('shutdown', () => {
  it('closes the app promptly while a live thread stream is open', async () => {
    const web = await startTestApp({}, ['web']);
    try {
      const db = web.running.composed.database.db;
      await createAdminUser(db, { username: 'closer', password: PASSWORD });
      const [row] = await web.query<{ id: string }>(
        `insert into conversations (channel, user_address) values ('twilio', 'whatsapp:+14155550999') returning id`,
      );
      const client = adminClient(web.url);
      expect((await client.login('closer', PASSWORD)).status).toBe(303);
      const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await fetch(`${web.url}/admin/conversations/${row!.id}/events`, {
        headers: { cookie },
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read();
      const started = Date.now();
      await web.running.stop();
      expect(Date.now() - started).toBeLessThan(3000);
      // The server ended the stream.
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
    } finally {
      await web.stop().catch(() => undefined);
    }
  });
});
