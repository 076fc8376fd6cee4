import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../../helpers/app.js';
import { openSse, type SseStream } from './sse.js';

interface Part {
  providerMessageId: string;
  partIndex: number;
  partCount: number;
  body: string;
  status: string;
}
interface ThreadMessage {
  id: string;
  role: string;
  content: string;
  createdAt: string;
  processingStatus: string | null;
  parts?: Part[];
  display?: unknown;
}
interface Thread {
  address: string;
  conversation: { id: string; address: string; profileName: string | null } | null;
  messages: ThreadMessage[];
}
interface MessageEvent {
  address: string;
  providerMessageId: string;
  body: string;
  sentAt: string;
  status: string;
}

/** A phone number of its own per test, so tests never read each other's conversations. */
function newPhone(): string {
  return `+1415${randomInt(1_000_000, 9_999_999)}`;
}

/** Webhook log rows are written in batches, a moment after the response (webhook-log-writer.ts): wait for them. */
function logRows<Row extends Record<string, unknown>>(
  app: TestApp,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  return eventually('the webhook log row', async () => {
    const rows = await app.query<Row>(text, values);
    return rows.length > 0 ? rows : undefined;
  });
}

describe('simulator routes, through the real pipeline', () => {
  let app: TestApp;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    app = await startTestApp({ SIMULATOR_ENABLED: 'true' });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app.stop();
  });
  beforeEach(() => {
    app.llm.reset();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const thread = async (phone: string): Promise<Thread> => {
    const response = await fetch(
      `${app.url}/simulator/api/conversations?address=${encodeURIComponent(phone)}`,
    );
    expect(response.status).toBe(200);
    return (await response.json()) as Thread;
  };
  const events = async (phone?: string) => {
    const query = phone === undefined ? '' : `?address=${encodeURIComponent(phone)}`;
    const stream = await openSse(`${app.url}/simulator/api/events${query}`);
    streams.push(stream);
    return stream;
  };
  const assistantParts = (t: Thread) =>
    t.messages.filter((m) => m.role === 'assistant').flatMap((m) => m.parts ?? []);

  it('a posted message is stored as a pending user message in a simulator conversation, with its log row', async () => {
    const phone = newPhone();
    const response = await post('/simulator/api/messages', {
      from: phone,
      profileName: 'Ada',
      body: 'hello bot',
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as {
      messageId: string;
      conversationId: string;
      providerMessageId: string;
    };

    const [stored] = await app.query<{
      content: string;
      role: string;
      channel: string;
      user_address: string;
      profile_name: string;
      provider_message_id: string;
    }>(
      `select m.content, m.role, c.channel, c.user_address, c.profile_name, m.provider_message_id
       from messages m join conversations c on c.id = m.conversation_id where m.id = $1`,
      [accepted.messageId],
    );
    expect(stored).toEqual({
      content: 'hello bot',
      role: 'user',
      channel: 'simulator',
      user_address: `whatsapp:${phone}`,
      profile_name: 'Ada',
      provider_message_id: accepted.providerMessageId,
    });
    expect(accepted.providerMessageId).toMatch(/^SIM[0-9a-f]{32}$/);

    const logs = await logRows<{
      channel: string;
      kind: string;
      response_status: number;
      body: Record<string, unknown>;
    }>(app, `select channel, kind, response_status, body from webhook_logs where provider_message_id = $1`, [
      accepted.providerMessageId,
    ]);
    expect(logs).toEqual([
      {
        channel: 'simulator',
        kind: 'inbound',
        response_status: 202,
        body: { from: phone, profileName: 'Ada', body: 'hello bot' },
      },
    ]);
  });

  it("a message's log row times the whole accept, storing included", async () => {
    const phone = newPhone();
    // Hold back every insert into messages for a while: the accept waits on it, and so must its timing.
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table messages in exclusive mode');
      const posted = post('/simulator/api/messages', { from: phone, body: 'timed' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await blocker.query('commit');
      const response = await posted;
      expect(response.status).toBe(202);
      const { providerMessageId } = (await response.json()) as { providerMessageId: string };
      const [log] = await logRows<{ processing_time_ms: number }>(
        app,
        `select processing_time_ms from webhook_logs where provider_message_id = $1`,
        [providerMessageId],
      );
      expect(log?.processing_time_ms).toBeGreaterThanOrEqual(350);
    } finally {
      await blocker.end();
    }
  });

  it("the model's reply arrives on the event stream and in the thread, then is delivered and read", async () => {
    const phone = newPhone();
    const stream = await events(phone);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    // The stream is written past Fastify (hijacked), and still carries the security headers.
    expect(stream.headers.get('x-content-type-options')).toBe('nosniff');
    expect(stream.headers.get('content-security-policy')).toContain("default-src 'self'");

    await post('/simulator/api/messages', { from: phone, body: 'what is up?' });
    const reply = (await stream.next((e) => e.event === 'message')).data as MessageEvent;
    expect(reply).toMatchObject({ address: phone, body: 'fake reply to: what is up?', status: 'sent' });

    const delivered = await stream.next((e) => e.event === 'status');
    expect(delivered.data).toEqual({
      address: phone,
      providerMessageId: reply.providerMessageId,
      status: 'delivered',
    });
    await eventually('delivered in the thread', async () =>
      assistantParts(await thread(phone))[0]?.status === 'delivered' ? true : undefined,
    );

    const read = await post('/simulator/api/read', { providerMessageId: reply.providerMessageId });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({
      providerMessageId: reply.providerMessageId,
      status: 'read',
      known: true,
    });
    await stream.next((e) => e.event === 'status' && (e.data as { status: string }).status === 'read');

    const shown = await thread(phone);
    expect(shown.conversation?.address).toBe(phone);
    expect(shown.messages.map((m) => [m.role, m.content, m.processingStatus])).toEqual([
      ['user', 'what is up?', 'answered'],
      ['assistant', 'fake reply to: what is up?', null],
    ]);
    expect(assistantParts(shown)).toEqual([
      {
        providerMessageId: reply.providerMessageId,
        partIndex: 0,
        partCount: 1,
        body: 'fake reply to: what is up?',
        status: 'read',
      },
    ]);
    const statusLogs = await logRows<{ channel: string; kind: string }>(
      app,
      `select channel, kind from webhook_logs where provider_message_id = $1`,
      [reply.providerMessageId],
    );
    expect(statusLogs).toEqual([{ channel: 'simulator', kind: 'status' }]);
  });

  it('a 4000-character reply arrives as ordered parts of at most 1600, live and in the thread', async () => {
    const phone = newPhone();
    const sentences = Array.from(
      { length: 80 },
      (_, i) => `Sentence number ${String(i).padStart(3, '0')} of the long answer is here.`,
    );
    const long = sentences.join(' ').slice(0, 4000);
    app.llm.respondOnce({ text: long });
    const stream = await events(phone);

    await post('/simulator/api/messages', { from: phone, body: 'tell me everything' });
    const parts = await eventually('every part in the thread', async () => {
      const found = assistantParts(await thread(phone));
      return found.length > 0 && found.length === found[0]!.partCount ? found : undefined;
    });
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.map((p) => p.partIndex)).toEqual(parts.map((_, i) => i));
    for (const part of parts) expect(part.body.length).toBeLessThanOrEqual(1600);
    expect(parts.map((p) => p.body).join(' ')).toBe(long);

    await stream.next(
      (e) =>
        e.event === 'message' &&
        (e.data as MessageEvent).providerMessageId === parts.at(-1)!.providerMessageId,
    );
    const live = stream.events.filter((e) => e.event === 'message').map((e) => (e.data as MessageEvent).body);
    expect(live).toEqual(parts.map((p) => p.body));
  });

  it('HTML in a message is stored and returned as text, exactly as typed', async () => {
    const phone = newPhone();
    const html = '<img src=x onerror="alert(1)"><script>alert(2)</script> & "quotes"';
    const stream = await events(phone);
    await post('/simulator/api/messages', { from: phone, profileName: '<b>Eve</b>', body: html });

    const reply = (await stream.next((e) => e.event === 'message')).data as MessageEvent;
    expect(reply.body).toBe(`fake reply to: ${html}`);
    const shown = await thread(phone);
    expect(shown.messages[0]!.content).toBe(html);
    // What the page draws: the stored content as text (the page puts it in a text node).
    expect(shown.messages[0]!.display).toEqual({
      body: { kind: 'text', text: html },
      notes: [],
      summary: expect.any(String) as string,
    });
    expect(shown.conversation?.profileName).toBe('<b>Eve</b>');
  });

  it('control characters are removed from the message before it is stored', async () => {
    const phone = newPhone();
    const response = await post('/simulator/api/messages', { from: phone, body: 'a\u0000b\u0007c\r\nd' });
    expect(response.status).toBe(202);
    expect((await thread(phone)).messages[0]!.content).toBe('abc\nd');
  });

  it('a formatted phone number is accepted in its E.164 form', async () => {
    const response = await post('/simulator/api/messages', { from: '+1 (415) 555-0199', body: 'hi' });
    expect(response.status).toBe(202);
    expect((await thread('+14155550199')).conversation?.address).toBe('+14155550199');
  });

  it.each([
    ['a phone number without +', { from: '14155550100', body: 'hi' }, /international format/],
    ['a phone number with letters', { from: '+1415abc0100', body: 'hi' }, /international format/],
    ['a phone number starting with 0', { from: '+0123456789', body: 'hi' }, /international format/],
    ['no body', { from: '+14155550100' }, /body must be a string/],
    ['an empty body', { from: '+14155550100', body: '  \n ' }, /empty/],
    [
      'a body over 4096 characters',
      { from: '+14155550100', body: 'x'.repeat(4097) },
      /4097 characters.*at most 4096/,
    ],
    ['a profile name that is not text', { from: '+14155550100', body: 'hi', profileName: 42 }, /profileName/],
    ['an array', [1, 2], /JSON object/],
  ])('%s is refused with 400 and a message that says why', async (_name, body, message) => {
    const response = await post('/simulator/api/messages', body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: string; message: string };
    expect(answer.error).toBe('invalid_input');
    expect(answer.message).toMatch(message);
  });

  it('a refused message stores nothing but is written to the request log', async () => {
    const phone = newPhone();
    const response = await post('/simulator/api/messages', { from: phone, body: 'y'.repeat(5000) });
    expect(response.status).toBe(400);
    expect((await thread(phone)).conversation).toBeNull();
    const logs = await logRows<{ response_status: number; error: string }>(
      app,
      `select response_status, error from webhook_logs where channel = 'simulator' and body->>'from' = $1`,
      [phone],
    );
    expect(logs).toEqual([{ response_status: 400, error: expect.stringMatching(/at most 4096/) as string }]);
  });

  it('exactly 4096 characters (counted as a person counts them, emoji as one) are accepted', async () => {
    const response = await post('/simulator/api/messages', { from: newPhone(), body: '😀'.repeat(4096) });
    expect(response.status).toBe(202);
  });

  it('a read receipt for an id the simulator did not make is refused', async () => {
    const response = await post('/simulator/api/read', {
      providerMessageId: 'SM0123456789abcdef0123456789abcdef',
    });
    expect(response.status).toBe(400);
  });

  it('the thread of a number that never wrote is empty, and a bad address is a 400', async () => {
    expect(await thread('+14155550000')).toMatchObject({ conversation: null, messages: [] });
    const bad = await fetch(`${app.url}/simulator/api/conversations?address=hello`);
    expect(bad.status).toBe(400);
    const badEvents = await fetch(`${app.url}/simulator/api/events?address=hello`);
    expect(badEvents.status).toBe(400);
  });

  it('an address whose + was not encoded in the query still finds its conversation', async () => {
    const phone = newPhone();
    await post('/simulator/api/messages', { from: phone, body: 'plus' });
    const response = await fetch(`${app.url}/simulator/api/conversations?address=${phone}`);
    expect(((await response.json()) as Thread).conversation?.address).toBe(phone);
  });

  it('the conversation list names every simulator conversation with its last message', async () => {
    const phone = newPhone();
    await post('/simulator/api/messages', { from: phone, profileName: 'Lister', body: 'listed' });
    const response = await fetch(`${app.url}/simulator/api/conversations`);
    const { conversations } = (await response.json()) as {
      conversations: Array<{ address: string; profileName: string | null; lastMessage: string | null }>;
    };
    expect(conversations.find((c) => c.address === phone)).toMatchObject({ profileName: 'Lister' });
    expect(conversations.every((c) => c.address.startsWith('+'))).toBe(true);
  });

  it("each listed conversation's lastMessage is the text of its newest message", async () => {
    const first = newPhone();
    const second = newPhone();
    await post('/simulator/api/messages', { from: first, body: 'first, older' });
    await post('/simulator/api/messages', { from: second, body: 'second, only' });
    await post('/simulator/api/messages', { from: first, body: 'first, newest' });
    // Once every user message is settled and the newest message is a reply, nothing changes any more. (The last
    // message being a reply is not enough: the reply to "first, older" can be stored after "first, newest" while
    // the newest still waits for its own.)
    const newest = await eventually('both conversations answered', async () => {
      const threads = [await thread(first), await thread(second)];
      const settled = threads.every((t) =>
        t.messages.every((m) => m.role !== 'user' || (m.processingStatus ?? 'pending') !== 'pending'),
      );
      const last = threads.map((t) => t.messages.at(-1));
      return settled && last.every((m) => m?.role === 'assistant') ? last.map((m) => m?.content) : undefined;
    });
    const response = await fetch(`${app.url}/simulator/api/conversations`);
    expect(response.status).toBe(200);
    const { conversations } = (await response.json()) as {
      conversations: Array<{ address: string; lastMessage: string | null }>;
    };
    expect(newest.every((text) => typeof text === 'string' && text.length > 0)).toBe(true);
    expect(conversations.find((c) => c.address === first)?.lastMessage).toBe(newest[0]);
    expect(conversations.find((c) => c.address === second)?.lastMessage).toBe(newest[1]);
    expect((await thread(first)).messages.map((m) => m.content)).toEqual(
      expect.arrayContaining(['first, older', 'first, newest']),
    );
  });

  it('the stream of every conversation carries the messages of each', async () => {
    const all = await events();
    const first = newPhone();
    const second = newPhone();
    await post('/simulator/api/messages', { from: first, body: 'one' });
    await post('/simulator/api/messages', { from: second, body: 'two' });
    await all.next((e) => e.event === 'message' && (e.data as MessageEvent).address === first);
    await all.next((e) => e.event === 'message' && (e.data as MessageEvent).address === second);
  });
});
