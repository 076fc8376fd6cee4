/**
 * WhatsApp's 24-hour window against the whole app (web, worker, scheduler) with fake Twilio and LLM: an operator's
 * text to a conversation whose user last wrote more than 24 hours ago goes out as WINDOW_TEMPLATE (ContentSid +
 * ContentVariables, no Body) or, without one, is refused with 409 `outside_window` and nothing is sent; a 63016
 * status callback after an accepted send is matched to its message, shown in the API and the admin, and followed
 * by exactly one template; the window's state in the API and the admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { adminClient } from '../admin/client.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';

const TEMPLATE = `HX${'0a1b2c3d4e5f6a7b'.repeat(2)}`;
const VARIABLES = '{"1":"there"}';
const PASSWORD = 'a long enough password 1';

interface Message {
  id: string;
  author: string;
  text: string;
  kind: string;
  status: string | null;
  error: { code: string; outsideWindow: boolean } | null;
  windowTemplate: Record<string, unknown> | null;
}
interface Conversation {
  id: string;
  window: { open: boolean; closesAt: string | null };
}

/** The user's last message moved `hours` into the past, as if they had been silent since. */
async function age(app: TestApp, conversationId: string, hours: number): Promise<void> {
  await app.query(
    `update conversations set last_inbound_at = now() - make_interval(hours => $2) where id = $1`,
    [conversationId, hours],
  );
}

/**
 * Until the app has stored Twilio's answer (the part's SID), a callback for it is one that beat the answer: a
 * different order, tested in test/pipeline/window-fallback.test.ts. These tests post theirs after it.
 */
const sidStored = (app: TestApp, sid: string) =>
  eventually(`the SID ${sid} stored`, async () => {
    const found = await app.query('select 1 from deliveries where provider_message_id = $1', [sid]);
    return found.length > 0 ? true : undefined;
  });

const templateParams = (app: TestApp, to: string) =>
  app.twilio.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json') && r.params.To === to)
    .filter((r) => r.params.ContentSid !== undefined);

describe('with WINDOW_TEMPLATE', () => {
  let app: TestApp;
  let agent: TestToken;
  beforeAll(async () => {
    app = await startTestApp({ WINDOW_TEMPLATE: TEMPLATE, WINDOW_TEMPLATE_VARIABLES: VARIABLES });
    agent = await tokenFor(app, 'agent', 'helpdesk');
    await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
  }, 60_000);
  afterAll(() => app.stop());

  const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);
  const send = (conversationId: string, text: string, key?: string) =>
    callApi<{ message: Message }>(app, 'POST', `/conversations/${conversationId}/messages`, {
      token: agent.token,
      json: { text },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  const thread = async (conversationId: string) =>
    (
      await callApi<{ messages: Message[] }>(app, 'GET', `/conversations/${conversationId}/messages`, {
        token: agent.token,
      })
    ).body.messages;
  const conversation = async (conversationId: string) =>
    (await callApi<Conversation>(app, 'GET', `/conversations/${conversationId}`, { token: agent.token }))
      .body;

  it('shows an open window in the API and the admin, closing 24 hours after the user last wrote', async () => {
    const from = newSender('1415777');
    const id = await answeredConversation(app, from);
    const [row] = await app.query<{ last_inbound_at: Date }>(
      'select last_inbound_at from conversations where id = $1',
      [id],
    );
    const shown = await conversation(id);
    expect(shown.window.open).toBe(true);
    expect(new Date(shown.window.closesAt ?? 0).getTime()).toBe(
      (row?.last_inbound_at.getTime() ?? 0) + 24 * 3_600_000,
    );
    const admin = adminClient(app.url);
    expect((await admin.login('ada', PASSWORD)).status).toBe(303);
    const page = (await admin.get(`/admin/conversations/${id}`)).body;
    expect(page).toContain('data-window="open"');
    expect(page).toMatch(/Window open until/);
    expect(page).not.toContain('data-window-hint');
  });

  it('sends an operator’s text outside the window as the template: ContentSid + ContentVariables, no Body', async () => {
    const from = newSender('1415777');
    const id = await answeredConversation(app, from);
    await age(app, id, 25);
    expect((await conversation(id)).window.open).toBe(false);

    const text = 'Your replacement part arrived, come by any time.';
    const answer = await send(id, text, 'ticket-7');
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatchObject({
      author: 'operator',
      kind: 'template',
      windowTemplate: { reason: 'outside_window', replaced: 'text', text },
    });

    const [request] = await eventually('the template at Twilio', () =>
      Promise.resolve(templateParams(app, from).length > 0 ? templateParams(app, from) : undefined),
    );
    expect(request?.params).toMatchObject({ ContentSid: TEMPLATE, ContentVariables: VARIABLES });
    expect(request?.params.Body).toBeUndefined();
    // The text itself never went out.
    expect(sentTo(from).some((m) => m.body === text)).toBe(false);

    // The same request again (its Idempotency-Key) is the same message, not a reuse of the key.
    const again = await send(id, text, 'ticket-7');
    expect(again.status).toBe(202);
    expect(again.body.message.id).toBe(answer.body.message.id);

    const admin = adminClient(app.url);
    expect((await admin.login('ada', PASSWORD)).status).toBe(303);
    const page = (await admin.get(`/admin/conversations/${id}`)).body.replace(/\s+/g, ' ');
    expect(page).toContain('data-window="closed"');
    expect(page).toMatch(/Window closed: only templates/);
    expect(page).toMatch(/the window template \(WINDOW_TEMPLATE\) goes instead/);
    expect(page).toContain(
      `Sent instead of the text written outside the 24-hour window (not sent: <q>${text}</q>)`,
    );
  });

  it('matches a 63016 callback to its message, shows it, and follows it with exactly one template', async () => {
    const from = newSender('1415777');
    const id = await answeredConversation(app, from);
    const text = 'Here is the tracking number you asked for: 123.';
    const answer = await send(id, text);
    expect(answer.status).toBe(202);
    const accepted = await eventually('the text at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === text)),
    );
    // Twilio took it, then WhatsApp refused it: outside the window, reported late.
    await sidStored(app, accepted.sid);
    expect((await app.twilio.deliverStatus(accepted.sid, 'undelivered', '63016')).status).toBe(200);

    const template = await eventually('the window template at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.contentSid === TEMPLATE)),
    );
    expect(template.contentVariables).toBe(VARIABLES);
    const messages = await thread(id);
    const failed = messages.find((m) => m.id === answer.body.message.id);
    expect(failed).toMatchObject({ status: 'undelivered', error: { code: '63016', outsideWindow: true } });
    expect(messages.at(-1)).toMatchObject({
      author: 'system',
      kind: 'template',
      error: null,
      windowTemplate: {
        reason: 'window_failure',
        failedMessageId: answer.body.message.id,
        errorCode: '63016',
      },
    });

    // The same callback again, then the template itself refused with 63016: each is recorded before the answer,
    // so once both are answered nothing more can have been stored, and nothing stored means nothing sent.
    expect((await app.twilio.deliverStatus(accepted.sid, 'undelivered', '63016')).status).toBe(200);
    await sidStored(app, template.sid);
    expect((await app.twilio.deliverStatus(template.sid, 'failed', '63016')).status).toBe(200);
    const [templateDelivery] = await app.query<{ status: string; error_code: string }>(
      'select status, error_code from deliveries where provider_message_id = $1',
      [template.sid],
    );
    expect(templateDelivery).toEqual({ status: 'failed', error_code: '63016' });
    const fallbacks = await app.query(
      `select 1 from messages where conversation_id = $1 and outbound_key like 'window-fallback:%'`,
      [id],
    );
    expect(fallbacks).toHaveLength(1);
    expect(sentTo(from).filter((m) => m.contentSid !== undefined)).toHaveLength(1);

    const admin = adminClient(app.url);
    expect((await admin.login('ada', PASSWORD)).status).toBe(303);
    const page = (await admin.get(`/admin/conversations/${id}`)).body.replace(/\s+/g, ' ');
    expect(page).toMatch(/error 63016<\/code> <span class="muted">outside the 24-hour window/);
    expect(page).toMatch(/Sent after an earlier message failed outside the 24-hour window/);
  });
});

describe('without WINDOW_TEMPLATE', () => {
  let app: TestApp;
  let agent: TestToken;
  beforeAll(async () => {
    app = await startTestApp();
    agent = await tokenFor(app, 'agent', 'helpdesk');
    await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
  }, 60_000);
  afterAll(() => app.stop());

  it('refuses an operator’s text outside the window with 409 outside_window, storing and sending nothing', async () => {
    const from = newSender('1415666');
    const id = await answeredConversation(app, from);
    await age(app, id, 30);
    const before = app.twilio.sent.length;
    const answer = await callApi(app, 'POST', `/conversations/${id}/messages`, {
      token: agent.token,
      json: { text: 'Are you still there?' },
    });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: 'outside_window' } });
    // Refused before anything was stored: no row, so no job, so no send.
    const stored = await app.query(
      `select 1 from messages where conversation_id = $1 and author like 'operator:%'`,
      [id],
    );
    expect(stored).toHaveLength(0);
    expect(app.twilio.sent.length).toBe(before);

    // Handing it to a person still works: the handoff stands, HANDOFF_MESSAGE cannot go and is not stored.
    const handed = await callApi<Conversation & { mode: string }>(app, 'POST', `/conversations/${id}/mode`, {
      token: agent.token,
      json: { mode: 'human' },
    });
    expect(handed.status).toBe(200);
    expect(handed.body).toMatchObject({ mode: 'human', window: { open: false } });
    const notices = await app.query(
      `select 1 from messages where conversation_id = $1 and outbound_key like 'handoff:%'`,
      [id],
    );
    expect(notices).toHaveLength(0);

    // The admin's composer says why, and the page says what the window allows.
    const admin = adminClient(app.url);
    expect((await admin.login('ada', PASSWORD)).status).toBe(303);
    const page = (await admin.get(`/admin/conversations/${id}`)).body.replace(/\s+/g, ' ');
    expect(page).toMatch(/Window closed: only templates/);
    expect(page).toMatch(/none is configured \(WINDOW_TEMPLATE\), so a reply will be refused/);
    const refused = await admin.post(
      `/admin/conversations/${id}/messages`,
      { _csrf: admin.csrf(), text: 'Hello?', requestKey: crypto.randomUUID() },
      { accept: 'application/json' },
    );
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'outside_window' } });

    // A 63016 with no template configured is recorded and shown, and nothing follows it.
    const fresh = newSender('1415666');
    const freshId = await answeredConversation(app, fresh);
    const sent = await callApi<{ message: Message }>(app, 'POST', `/conversations/${freshId}/messages`, {
      token: agent.token,
      json: { text: 'One more thing.' },
    });
    const accepted = await eventually('the text at Twilio', () =>
      Promise.resolve(app.twilio.sent.find((m) => m.to === fresh && m.body === 'One more thing.')),
    );
    await sidStored(app, accepted.sid);
    expect((await app.twilio.deliverStatus(accepted.sid, 'failed', '63016')).status).toBe(200);
    const messages = (
      await callApi<{ messages: Message[] }>(app, 'GET', `/conversations/${freshId}/messages`, {
        token: agent.token,
      })
    ).body.messages;
    expect(messages.at(-1)).toMatchObject({
      id: sent.body.message.id,
      status: 'failed',
      error: { code: '63016', outsideWindow: true },
    });
    expect(app.twilio.sent.filter((m) => m.to === fresh && m.contentSid !== undefined)).toHaveLength(0);
  });
});
