import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { friendlyAiFailure } from '../../src/domain/user-messages.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const STATUS = '/api/whatsapp/status/';

let app: TestApp;
let phone = 0;
/** A new sender per test, so conversations never mix. */
const newSender = () => `whatsapp:+1415555${String(1000 + phone++).padStart(4, '0')}`;

beforeAll(async () => {
  app = await startTestApp({ AI_TIMEOUT_SECONDS: '0.5' });
});
afterAll(async () => {
  await app.stop();
});
beforeEach(() => {
  app.twilio.reset();
  app.llm.reset();
});

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);
const waitForReplies = (to: string, count: number) =>
  eventually(`${count} reply(ies) to ${to}`, () =>
    Promise.resolve(sentTo(to).length >= count ? sentTo(to) : undefined),
  );
const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

describe('Twilio webhook → queue → LLM → reply', () => {
  it('answers a signed webhook at once with empty TwiML and sends exactly one reply with the LLM text', async () => {
    const from = newSender();
    app.llm.respond(() => ({ text: 'Hello from the model' }));
    const response = await app.postSigned(
      WEBHOOK,
      inboundParams({ From: from, To: BUSINESS_NUMBER, Body: 'Hi bot' }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await response.text()).toContain('<Response/>');

    const [reply] = await waitForReplies(from, 1);
    expect(reply).toMatchObject({ to: from, from: BUSINESS_NUMBER, body: 'Hello from the model' });
    await settle();
    expect(sentTo(from)).toHaveLength(1);
    const last = app.llm.requests.at(-1)!;
    expect(last.model).toBe('gpt-test');
    expect(last.messages.at(-1)).toEqual({ role: 'user', content: 'Hi bot' });

    const rows = await app.query<{ role: string; content: string; processing_status: string | null }>(
      `select m.role, m.content, m.processing_status from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 order by m.created_at`,
      [from],
    );
    expect(rows).toEqual([
      { role: 'user', content: 'Hi bot', processing_status: 'answered' },
      { role: 'assistant', content: 'Hello from the model', processing_status: null },
    ]);
    const [delivery] = await app.query<{ provider_message_id: string; status: string }>(
      `select d.provider_message_id, d.status from deliveries d join conversations c on c.id = d.conversation_id
       where c.user_address = $1`,
      [from],
    );
    expect(delivery!.provider_message_id).toBe(reply!.sid);
  });

  it('sends the second message to the LLM with the first exchange in its context', async () => {
    const from = newSender();
    app.llm.respond((request) => ({ text: `answer ${request.messages.length}` }));
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'My name is Ada' }));
    await waitForReplies(from, 1);
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'What is my name?' }));
    await waitForReplies(from, 2);
    const second = app.llm.requests.at(-1)!;
    expect(second.messages.filter((m) => m.role !== 'system')).toEqual([
      { role: 'user', content: 'My name is Ada' },
      { role: 'assistant', content: sentTo(from)[0]!.body },
      { role: 'user', content: 'What is my name?' },
    ]);
    expect(second.messages[0]!.role).toBe('system');
  });

  it('rebuilds the context from PostgreSQL when the Redis cache is gone', async () => {
    const from = newSender();
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'first' }));
    await waitForReplies(from, 1);
    const [conversation] = await app.query<{ id: string }>(
      'select id from conversations where user_address = $1',
      [from],
    );
    await app.running.composed.deps.context.clear(conversation!.id);
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'second' }));
    await waitForReplies(from, 2);
    const contents = app.llm.requests.at(-1)!.messages.map((m) => m.content);
    expect(contents.slice(-3)).toEqual(['first', sentTo(from)[0]!.body, 'second']);
  });

  it('rejects a bad signature with 403, stores nothing and sends nothing', async () => {
    const from = newSender();
    const response = await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'forged' }), {
      signature: 'bm90IGEgc2lnbmF0dXJl',
    });
    expect(response.status).toBe(403);
    await settle();
    expect(sentTo(from)).toHaveLength(0);
    expect(await app.query('select 1 from conversations where user_address = $1', [from])).toHaveLength(0);
    // Audit rows are written in batches, a moment after the response.
    const logs = await eventually('the webhook log row', async () => {
      const rows = await app.query<{ response_status: number; headers: Record<string, string> }>(
        `select response_status, headers from webhook_logs where body->>'From' = $1`,
        [from],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(logs).toHaveLength(1);
    expect(logs[0]!.response_status).toBe(403);
    expect(logs[0]!.headers['x-twilio-signature']).toBe('[redacted]');
  });

  it('rejects a request whose parameters were altered after signing', async () => {
    const from = newSender();
    const params = inboundParams({ From: from, Body: 'original' });
    const signed = await import('../helpers/twilio.js').then((m) =>
      m.signParams(app.twilio.authToken, `${app.url}${WEBHOOK}`, params),
    );
    const response = await app.postSigned(WEBHOOK, { ...params, Body: 'tampered' }, { signature: signed });
    expect(response.status).toBe(403);
  });

  it('acknowledges a redelivered MessageSid and sends nothing more', async () => {
    const from = newSender();
    const params = inboundParams({ From: from, Body: 'once' });
    await app.postSigned(WEBHOOK, params);
    await waitForReplies(from, 1);
    const again = await app.postSigned(WEBHOOK, params);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('<Response/>');
    await settle();
    expect(sentTo(from)).toHaveLength(1);
    expect(
      await app.query('select 1 from messages where provider_message_id = $1', [params.MessageSid]),
    ).toHaveLength(1);
  });

  it('sends a 4000-character answer as ordered parts of at most 1600 characters', async () => {
    const from = newSender();
    const sentences = Array.from({ length: 120 }, (_, i) => `Sentence ${i} of a long answer, with words.`);
    const text = sentences
      .join(' ')
      .slice(0, 4000)
      .replace(/\s+\S*$/, '.');
    expect(text.length).toBeGreaterThan(3500);
    app.llm.respond(() => ({ text }));
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'tell me everything' }));
    const parts = await waitForReplies(from, 3);
    await settle();
    expect(sentTo(from)).toHaveLength(3);
    for (const part of parts) expect(part.body.length).toBeLessThanOrEqual(1600);
    expect(parts.map((p) => p.body).join(' ')).toBe(text);
  });

  it('answers with a friendly message when the LLM times out on every attempt', async () => {
    const from = newSender();
    app.llm.respond(() => ({ text: 'too late', delayMs: 3000 }));
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'are you there?' }));
    const [reply] = await waitForReplies(from, 1);
    expect(reply!.body).toBe(friendlyAiFailure('ai_timeout', false));
    const [row] = await app.query<{ error_kind: string }>(
      `select m.error_kind from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'assistant'`,
      [from],
    );
    expect(row!.error_kind).toBe('ai_timeout');
  });

  it('retries a transient LLM failure and still sends exactly one reply', async () => {
    const from = newSender();
    let calls = 0;
    app.llm.respond(() =>
      ++calls === 1 ? { status: 500, errorMessage: 'boom' } : { text: 'second time lucky' },
    );
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hello?' }));
    const [reply] = await waitForReplies(from, 1);
    expect(reply!.body).toBe('second time lucky');
    await settle();
    expect(sentTo(from)).toHaveLength(1);
    expect(calls).toBe(2);
  });

  it('never shows a provider error to the user (auth failure is not retried)', async () => {
    const from = newSender();
    app.llm.respond(() => ({ status: 401, errorMessage: 'Incorrect API key provided: sk-test-key' }));
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hi' }));
    const [reply] = await waitForReplies(from, 1);
    expect(reply!.body).toBe(friendlyAiFailure('ai_auth', false));
    // No ALERT_* channel in this app: nobody was notified, so the apology must not say so.
    expect(reply!.body).not.toContain('notified');
    expect(reply!.body).not.toContain('sk-test');
    expect(app.llm.requests.filter((r) => r.messages.at(-1)?.content === 'hi')).toHaveLength(1);
  });

  it('retries a Twilio 5xx on send and delivers once', async () => {
    const from = newSender();
    app.twilio.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hi' }));
    await waitForReplies(from, 1);
    await settle();
    expect(sentTo(from)).toHaveLength(1);
    // The failed first attempt's error does not stay on a part that went through.
    const [part] = await app.query<{
      status: string;
      error_code: string | null;
      error_message: string | null;
    }>(
      `select d.status, d.error_code, d.error_message from deliveries d
       join conversations c on c.id = d.conversation_id where c.user_address = $1`,
      [from],
    );
    expect(part).toMatchObject({ error_code: null, error_message: null });
    expect(part!.status).not.toBe('failed');
  });

  it('answers other methods on the webhook paths with 405 and Allow', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(`${app.url}${WEBHOOK}`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, POST');
    }
    const status = await fetch(`${app.url}${STATUS}`, { method: 'PUT' });
    expect(status.status).toBe(405);
    expect(status.headers.get('allow')).toBe('POST');
  });

  it('strips control characters from what the model writes before it reaches the user', async () => {
    const from = newSender();
    app.llm.respondOnce({ text: 'Hi\u0001 there\u001b[31m red\u0007 done.\nNext line\ttab' });
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hi' }));
    const [reply] = await waitForReplies(from, 1);
    expect(reply!.body).toBe('Hi there[31m red done.\nNext line\ttab');
  });

  it('records a permanent Twilio refusal on the part and does not retry it', async () => {
    const from = newSender();
    app.twilio.failNext(1, { status: 400, code: 63016, message: 'outside the allowed window' });
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hi' }));
    const delivery = await eventually('the failed delivery', async () => {
      const [row] = await app.query<{ status: string; error_code: string }>(
        `select d.status, d.error_code from deliveries d join conversations c on c.id = d.conversation_id
         where c.user_address = $1`,
        [from],
      );
      return row?.status === 'failed' ? row : undefined;
    });
    expect(delivery.error_code).toBe('63016');
    await settle();
    expect(sentTo(from)).toHaveLength(0);
  });

  it('records delivery callbacks, tolerant of their order', async () => {
    const from = newSender();
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'status please' }));
    const [reply] = await waitForReplies(from, 1);
    expect(reply!.statusCallback).toBe(`${app.url}${STATUS}`);
    const status = async () =>
      (
        await app.query<{ status: string }>('select status from deliveries where provider_message_id = $1', [
          reply!.sid,
        ])
      )[0]?.status;
    await eventually('the sent state', async () =>
      (await status()) === 'queued' || (await status()) === 'sent' ? true : undefined,
    );
    expect((await app.twilio.deliverStatus(reply!.sid, 'read')).status).toBe(200);
    expect((await app.twilio.deliverStatus(reply!.sid, 'delivered')).status).toBe(200);
    expect((await app.twilio.deliverStatus(reply!.sid, 'sent')).status).toBe(200);
    expect(await status()).toBe('read');
  });

  it('rejects an unsigned status callback', async () => {
    const response = await app.postSigned(
      STATUS,
      { MessageSid: `SM${'a'.repeat(32)}`, MessageStatus: 'read' },
      {
        signature: 'AAAA',
      },
    );
    expect(response.status).toBe(403);
  });

  it('keeps one conversation and answers every message when 20 arrive at once from a new number', async () => {
    const from = newSender();
    app.llm.respond((request) => ({
      text: `seen ${request.messages.filter((m) => m.role === 'user').length}`,
    }));
    const bodies = Array.from({ length: 20 }, (_, i) => `message ${i}`);
    const responses = await Promise.all(
      bodies.map((Body) => app.postSigned(WEBHOOK, inboundParams({ From: from, Body }))),
    );
    expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 200));
    await eventually('every message answered', async () => {
      const rows = await app.query<{ pending: string }>(
        `select count(*) filter (where m.processing_status <> 'answered') as pending from messages m
         join conversations c on c.id = m.conversation_id where c.user_address = $1 and m.role = 'user'`,
        [from],
      );
      return rows[0]!.pending === '0' ? true : undefined;
    });
    expect(await app.query('select 1 from conversations where user_address = $1', [from])).toHaveLength(1);
    await settle();
    // Every stored reply reached the user exactly once, in the order the replies were made.
    const replies = await app.query<{ content: string }>(
      `select m.content from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'assistant' order by m.created_at`,
      [from],
    );
    expect(sentTo(from).map((m) => m.body)).toEqual(replies.map((r) => r.content));
  });
});

describe('webhook input handling', () => {
  it('answers GET with 200 for reachability checks', async () => {
    const response = await fetch(`${app.url}${WEBHOOK}`);
    expect(response.status).toBe(200);
  });

  it('answers 400 to a signed request that lacks required parameters', async () => {
    const response = await app.postSigned(WEBHOOK, { From: newSender(), Body: 'no sid' });
    expect(response.status).toBe(400);
  });

  it('answers 415 to a body that is not a form', async () => {
    const response = await fetch(`${app.url}${WEBHOOK}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inboundParams()),
    });
    expect(response.status).toBe(415);
  });

  it('answers 413 to a body over the limit', async () => {
    const response = await app.postSigned(WEBHOOK, inboundParams({ Body: 'x'.repeat(200_000) }));
    expect(response.status).toBe(413);
  });

  it('reports healthy dependencies', async () => {
    const response = await fetch(`${app.url}/health/`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(body.status).toBe('healthy');
    expect(Object.keys(body.checks).sort()).toEqual(['database', 'queue', 'redis', 'stranded']);
    expect(body.checks.stranded).toMatchObject({ status: 'up', pendingLongerThanSeconds: 60 });
  });
});
