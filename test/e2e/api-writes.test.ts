/**
 * The HTTP API's writes against the whole app (web, worker, scheduler) with fake Twilio and LLM: an operator's
 * message really delivered with its author, Idempotency-Key, mode switches with the handoff message sent once,
 * roles (a viewer's POST is 403), bad bodies, and the audit rows with the token as the actor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';

interface Message {
  id: string;
  direction: string;
  author: string;
  text: string;
  status: string | null;
  outcome: string | null;
}

let app: TestApp;
let agent: TestToken;
let viewer: TestToken;
beforeAll(async () => {
  app = await startTestApp();
  [agent, viewer] = await Promise.all([tokenFor(app, 'agent', 'helpdesk'), tokenFor(app, 'viewer', 'bi')]);
}, 60_000);
afterAll(() => app.stop());

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);
const auditOf = (conversationId: string, action: string) =>
  app.query<{ actor_kind: string; actor_id: string; actor_name: string; ip: string; details: unknown }>(
    `select actor_kind, actor_id, actor_name, ip, details from audit_log
     where target_type = 'conversation' and target_id = $1 and action = $2 order by created_at`,
    [conversationId, action],
  );

describe('POST /api/v1/conversations/{id}/messages', () => {
  it('sends the text to the user as the token’s operator, through the normal path, and audits it', async () => {
    const from = newSender();
    const id = await answeredConversation(app, from);
    const text = 'Hi, this is the support team: your order ships today.';
    const answer = await callApi<{ message: Message }>(app, 'POST', `/conversations/${id}/messages`, {
      token: agent.token,
      json: { text },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatchObject({
      direction: 'outbound',
      author: 'operator',
      text,
      outcome: null,
    });

    const delivered = await eventually('the operator message at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === text)),
    );
    expect(delivered.to).toBe(from);
    const [row] = await app.query<{ author: string; mode: string }>(
      `select m.author, c.mode from messages m join conversations c on c.id = m.conversation_id where m.id = $1`,
      [answer.body.message.id],
    );
    expect(row).toEqual({ author: `operator:${agent.id}`, mode: 'bot' });
    const [entry] = await auditOf(id, 'conversation.reply');
    expect(entry).toMatchObject({
      actor_kind: 'token',
      actor_id: agent.id,
      actor_name: 'token helpdesk',
      ip: '127.0.0.1',
      details: { messageId: answer.body.message.id },
    });
    // The thread shows it as the operator's, with its delivery status.
    const thread = await callApi<{ messages: Message[] }>(app, 'GET', `/conversations/${id}/messages`, {
      token: viewer.token,
    });
    expect(thread.body.messages.at(-1)).toMatchObject({ id: answer.body.message.id, author: 'operator' });
  });

  it('with an Idempotency-Key, the same request twice sends one message and answers it twice', async () => {
    const from = newSender();
    const id = await answeredConversation(app, from);
    const send = (text: string) =>
      callApi<{ message: Message }>(app, 'POST', `/conversations/${id}/messages`, {
        token: agent.token,
        json: { text },
        headers: { 'idempotency-key': 'crm-ticket-42' },
      });
    const first = await send('Your refund is on its way.');
    const second = await send('Your refund is on its way.');
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.message.id).toBe(first.body.message.id);
    const reused = await send('Something else entirely.');
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    const elsewhere = await callApi(
      app,
      'POST',
      `/conversations/${await answeredConversation(app, newSender())}/messages`,
      {
        token: agent.token,
        json: { text: 'Your refund is on its way.' },
        headers: { 'idempotency-key': 'crm-ticket-42' },
      },
    );
    expect(elsewhere).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused' } } });

    // Without a key, the same text twice is two messages.
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        callApi<{ message: Message }>(app, 'POST', `/conversations/${id}/messages`, {
          token: agent.token,
          json: { text: 'Anything else?' },
        }),
      ),
    );
    expect(a?.body.message.id).not.toBe(b?.body.message.id);
    await eventually('both unkeyed messages at Twilio', () =>
      Promise.resolve(
        sentTo(from).filter((m) => m.body === 'Anything else?').length === 2 ? true : undefined,
      ),
    );
    await eventually('the keyed message at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === 'Your refund is on its way.')),
    );
    expect(sentTo(from).filter((m) => m.body === 'Your refund is on its way.')).toHaveLength(1);
    const stored = await app.query(
      `select 1 from messages where conversation_id = $1 and author like 'operator:%'`,
      [id],
    );
    expect(stored).toHaveLength(3);
  });

  it('refuses a viewer (403), a bad body (422), bad JSON (400), a non-JSON body (415), an unknown id (404)', async () => {
    const from = newSender();
    const id = await answeredConversation(app, from);
    const path = `/conversations/${id}/messages`;
    const [forbidden, empty, missing, wrongType, badJson, plain, unknown, badKey] = await Promise.all([
      callApi(app, 'POST', path, { token: viewer.token, json: { text: 'hello' } }),
      callApi(app, 'POST', path, { token: agent.token, json: { text: '   ' } }),
      callApi(app, 'POST', path, { token: agent.token, json: {} }),
      callApi(app, 'POST', path, { token: agent.token, json: { text: 42 } }),
      callApi(app, 'POST', path, {
        token: agent.token,
        body: '{"text": ',
        headers: { 'content-type': 'application/json' },
      }),
      callApi(app, 'POST', path, {
        token: agent.token,
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
      }),
      callApi(app, 'POST', '/conversations/00000000-0000-4000-8000-000000000000/messages', {
        token: agent.token,
        json: { text: 'hello' },
      }),
      callApi(app, 'POST', path, {
        token: agent.token,
        json: { text: 'hello' },
        headers: { 'idempotency-key': 'x'.repeat(300) },
      }),
    ]);
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    for (const answer of [empty, missing, wrongType]) {
      expect(answer).toMatchObject({ status: 422, body: { error: { code: 'invalid_body' } } });
    }
    expect(missing.body).toMatchObject({ error: { message: expect.stringContaining('text') as string } });
    expect(badJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(plain).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(badKey).toMatchObject({ status: 400, body: { error: { code: 'invalid_header' } } });
    const stored = await app.query(
      `select 1 from messages where conversation_id = $1 and author like 'operator:%'`,
      [id],
    );
    expect(stored).toHaveLength(0);
  });
});

describe('POST /api/v1/conversations/{id}/mode', () => {
  it('hands off to a human: the conversation answered, HANDOFF_MESSAGE sent once, the switch audited', async () => {
    const from = newSender();
    const id = await answeredConversation(app, from);
    const handoffMessage = app.running.composed.deps.settings.handoffMessage;
    const switchTo = (mode: string, token = agent.token) =>
      callApi(app, 'POST', `/conversations/${id}/mode`, { token, json: { mode } });

    const first = await switchTo('human');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, mode: 'human', user: from, handoffReason: 'operator' });
    expect(first.body.handoffAt).toEqual(expect.any(String) as string);
    const again = await switchTo('human');
    expect(again.body).toMatchObject({ mode: 'human', handoffAt: first.body.handoffAt });

    await eventually('the handoff message at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === handoffMessage)),
    );
    const stored = await app.query(`select 1 from messages where conversation_id = $1 and content = $2`, [
      id,
      handoffMessage,
    ]);
    expect(stored).toHaveLength(1);
    expect(sentTo(from).filter((m) => m.body === handoffMessage)).toHaveLength(1);

    const back = await switchTo('bot');
    expect(back.body).toMatchObject({ mode: 'bot' });
    const audited = await auditOf(id, 'conversation.mode');
    expect(audited.map((row) => row.details)).toEqual([
      { from: 'bot', to: 'human', reason: 'operator' },
      { from: 'human', to: 'bot', reason: 'operator' },
    ]);
    for (const row of audited) expect(row).toMatchObject({ actor_kind: 'token', actor_id: agent.id });
  });

  it("checks the role before the body: a viewer's malformed POST is a 403, not a 422", async () => {
    const id = (await app.query<{ id: string }>('select id from conversations limit 1'))[0]!.id;
    for (const path of [`/conversations/${id}/messages`, `/conversations/${id}/mode`]) {
      const refused = await callApi(app, 'POST', path, { token: viewer.token, json: { nonsense: true } });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
  });

  it('refuses a viewer (403) and a mode that does not exist (422), and changes nothing', async () => {
    const id = await answeredConversation(app, newSender());
    const [forbidden, invalid, unknown] = await Promise.all([
      callApi(app, 'POST', `/conversations/${id}/mode`, { token: viewer.token, json: { mode: 'human' } }),
      callApi(app, 'POST', `/conversations/${id}/mode`, { token: agent.token, json: { mode: 'robot' } }),
      callApi(app, 'POST', '/conversations/nope/mode', { token: agent.token, json: { mode: 'human' } }),
    ]);
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(invalid).toMatchObject({ status: 422, body: { error: { code: 'invalid_body' } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const [row] = await app.query<{ mode: string }>(`select mode from conversations where id = $1`, [id]);
    expect(row?.mode).toBe('bot');
    expect(await auditOf(id, 'conversation.mode')).toEqual([]);
  });
});
