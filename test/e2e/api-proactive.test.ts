/**
 * POST /api/v1/messages against the whole app (web, worker, scheduler) with fake Twilio and LLM: a text to a person
 * who wrote, a template to a person who never did (their conversation created, the template sent as ContentSid +
 * ContentVariables and no Body), Idempotency-Key, concurrent first messages to one new address, and refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';

interface Message {
  id: string;
  direction: string;
  author: string;
  text: string;
  kind: string;
  status: string | null;
}
interface Conversation {
  id: string;
  user: string;
  channel: string;
  mode: string;
}
interface Sent {
  message: Message;
  conversation: Conversation;
}

const TEMPLATE = 'HX' + 'b5b62575e6e4ff6129ad7c8efe1f983e';

let app: TestApp;
let agent: TestToken;
let viewer: TestToken;
beforeAll(async () => {
  app = await startTestApp();
  [agent, viewer] = await Promise.all([tokenFor(app, 'agent', 'crm'), tokenFor(app, 'viewer', 'bi')]);
}, 60_000);
afterAll(() => app.stop());

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);
const send = (json: unknown, options: { token?: string; key?: string } = {}) =>
  callApi<Sent>(app, 'POST', '/messages', {
    token: options.token ?? agent.token,
    json,
    ...(options.key ? { headers: { 'idempotency-key': options.key } } : {}),
  });
const conversationsOf = (address: string) =>
  app.query<{ id: string; channel: string; business_address: string | null }>(
    `select id, channel, business_address from conversations where user_address = $1 or reply_address = $1`,
    [address],
  );

describe('POST /api/v1/messages', () => {
  it('sends a text into the conversation of a person who wrote, answering the message and its conversation', async () => {
    const to = newSender('1415777');
    const id = await answeredConversation(app, to);
    const text = 'Your table for two is booked for 8pm.';
    const answer = await send({ to, text });
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatchObject({
      direction: 'outbound',
      author: 'operator',
      text,
      kind: 'text',
    });
    expect(answer.body.conversation).toMatchObject({ id, user: to, channel: 'twilio' });

    const delivered = await eventually('the text at Twilio', () =>
      Promise.resolve(sentTo(to).find((m) => m.body === text)),
    );
    expect(delivered.from).toBe(BUSINESS_NUMBER);
    expect(await conversationsOf(to)).toHaveLength(1);
    const [entry] = await app.query<{
      actor_kind: string;
      actor_id: string;
      target_id: string;
      details: unknown;
    }>(
      `select actor_kind, actor_id, target_id, details from audit_log where action = 'message.proactive'
       and target_id = $1`,
      [id],
    );
    expect(entry).toMatchObject({
      actor_kind: 'token',
      actor_id: agent.id,
      details: { messageId: answer.body.message.id, kind: 'text' },
    });
    // The thread shows it, with its delivery status, like any operator message.
    const thread = await callApi<{ messages: Message[] }>(app, 'GET', `/conversations/${id}/messages`, {
      token: viewer.token,
    });
    expect(thread.body.messages.at(-1)).toMatchObject({ id: answer.body.message.id, author: 'operator' });
  });

  it('sends a template to a person who never wrote: their conversation is created, Twilio gets ContentSid and ContentVariables, no Body', async () => {
    const number = newSender('1415666').slice('whatsapp:'.length);
    const to = `whatsapp:${number}`;
    // A bare +E164 is taken as the WhatsApp address.
    const answer = await send({
      to: number,
      template: { id: TEMPLATE, variables: { '1': 'Ana', '2': '3pm' } },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.message).toMatchObject({
      direction: 'outbound',
      kind: 'template',
      text: `[template ${TEMPLATE}]`,
    });
    expect(answer.body.conversation).toMatchObject({ user: to, channel: 'twilio', mode: 'bot' });
    const [conversation, ...others] = await conversationsOf(to);
    expect(others).toEqual([]);
    expect(conversation).toMatchObject({
      id: answer.body.conversation.id,
      business_address: BUSINESS_NUMBER,
    });

    const delivered = await eventually('the template at Twilio', () => Promise.resolve(sentTo(to)[0]));
    expect(delivered).toMatchObject({ contentSid: TEMPLATE, from: BUSINESS_NUMBER });
    expect(JSON.parse(delivered.contentVariables ?? 'null')).toEqual({ '1': 'Ana', '2': '3pm' });
    const request = app.twilio.requests.find((r) => r.method === 'POST' && r.params.To === to);
    expect(request?.params).not.toHaveProperty('Body');
    // Its delivery status comes back through the status callback, as a reply's does.
    await app.twilio.deliverStatus(delivered.sid, 'delivered');
    await eventually('the delivered status', async () => {
      const thread = await callApi<{ messages: Message[] }>(
        app,
        'GET',
        `/conversations/${answer.body.conversation.id}/messages`,
        { token: viewer.token },
      );
      return thread.body.messages[0]?.status === 'delivered' ? true : undefined;
    });
    const [audit] = await app.query<{ details: unknown }>(
      `select details from audit_log where action = 'message.proactive' and target_id = $1`,
      [answer.body.conversation.id],
    );
    expect(audit?.details).toMatchObject({
      kind: 'template',
      templateId: TEMPLATE,
      conversationCreated: true,
    });
  });

  it('creates one conversation when first messages to a new address race', async () => {
    const to = newSender('1415555');
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) => send({ to, template: { id: TEMPLATE, variables: { '1': `n${n}` } } })),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    const rows = await conversationsOf(to);
    expect(rows).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.conversation.id))).toEqual(new Set([rows[0]?.id]));
    await eventually('four templates at Twilio', () =>
      Promise.resolve(sentTo(to).length === 4 ? true : undefined),
    );
  });

  it('with an Idempotency-Key, the same request twice sends once; the key for another message is a 409', async () => {
    const to = newSender('1415444');
    const body = { to, template: { id: TEMPLATE, variables: { '1': 'Bo' } } };
    const first = await send(body, { key: 'campaign-7-bo' });
    const second = await send(body, { key: 'campaign-7-bo' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.message.id).toBe(first.body.message.id);
    const [otherPerson, otherContent] = await Promise.all([
      send({ ...body, to: newSender('1415444') }, { key: 'campaign-7-bo' }),
      send({ to, text: 'something else' }, { key: 'campaign-7-bo' }),
    ]);
    expect(otherPerson).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused' } } });
    expect(otherContent).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused' } } });
    await eventually('the keyed template at Twilio', () => Promise.resolve(sentTo(to)[0]));
    const stored = await app.query(
      `select 1 from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'assistant'`,
      [to],
    );
    expect(stored).toHaveLength(1);
    expect(sentTo(to)).toHaveLength(1);
  });

  it('refuses no token (401), a viewer (403), and bodies that do not fit (422), storing nothing', async () => {
    const to = newSender('1415333');
    const template = { id: TEMPLATE, variables: { '1': 'x' } };
    const [anonymous, forbidden, both, neither, badTo, badFrom, badSid, badVariable, extra] =
      await Promise.all([
        callApi(app, 'POST', '/messages', { json: { to, template } }),
        send({ to, template }, { token: viewer.token }),
        send({ to, text: 'hi', template }),
        send({ to }),
        send({ to: '14155550100', template }),
        send({ to, from: 'whatsapp:+19995550000', template }),
        send({ to, template: { id: 'HX123' } }),
        send({ to, template: { id: TEMPLATE, variables: { 'first name': 'Ana' } } }),
        send({ to, template, body: 'x' }),
      ]);
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    for (const answer of [both, neither, extra])
      expect(answer).toMatchObject({ status: 422, body: { error: { code: 'invalid_body' } } });
    expect(badTo).toMatchObject({ status: 422, body: { error: { code: 'invalid_address' } } });
    expect(badFrom).toMatchObject({ status: 422, body: { error: { code: 'invalid_from' } } });
    expect(badSid).toMatchObject({ status: 422, body: { error: { code: 'invalid_template' } } });
    expect(badVariable).toMatchObject({ status: 422, body: { error: { code: 'invalid_template' } } });
    expect(await conversationsOf(to)).toEqual([]);
    // `from` naming our own number is accepted.
    const ours = await send({ to, from: BUSINESS_NUMBER, template });
    expect(ours.status).toBe(202);
  });

  it('refuses a person who opted out: 409 opted_out, nothing stored or sent, for a text and a template', async () => {
    const to = newSender('1415777');
    await answeredConversation(app, to);
    await app.query(
      `insert into opt_outs (channel, address, source, keyword) values ('twilio', $1, 'keyword', 'STOP')`,
      [to],
    );
    const before = sentTo(to).length;
    const [{ count: storedBefore }] = (await app.query<{ count: number }>(
      `select count(*)::int as count from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1`,
      [to],
    )) as [{ count: number }];
    for (const body of [
      { to, text: 'A new offer!' },
      { to, template: { id: TEMPLATE, variables: { 1: 'x' } } },
    ]) {
      const refused = await send(body);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ error: { code: 'opted_out' } });
    }
    const [{ count: storedAfter }] = (await app.query<{ count: number }>(
      `select count(*)::int as count from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1`,
      [to],
    )) as [{ count: number }];
    expect(storedAfter).toBe(storedBefore);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentTo(to)).toHaveLength(before);
  });

  it('refuses a free-form text to a person who never wrote (their window never opened) with 409 outside_window', async () => {
    const to = newSender('1415777');
    const refused = await send({ to, text: 'Hello from the shop!' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'outside_window' } });
    const stored = await app.query<{ count: number }>(
      `select count(*)::int as count from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 or c.reply_address = $1`,
      [to],
    );
    expect(stored[0]?.count).toBe(0);
    // No empty conversation is left holding the number of a person nothing was sent to.
    expect(await conversationsOf(to)).toEqual([]);
    // A template is what may open the conversation.
    const template = await send({ to, template: { id: TEMPLATE, variables: { 1: 'Ana' } } });
    expect(template.status).toBe(202);
  });
});
