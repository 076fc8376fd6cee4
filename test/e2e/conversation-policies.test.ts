import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitedNotice, tooLongNotice } from '../../src/domain/user-messages.js';
import { startRoles } from '../../src/main/run.js';
import { silentLogger } from '../../src/log.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
let sender = 0;
const newSender = () => `whatsapp:+1415666${String(1000 + sender++).padStart(4, '0')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sentTo(app: TestApp, to: string) {
  return app.twilio.sent.filter((m) => m.to === to);
}
async function waitForReplies(app: TestApp, to: string, count: number) {
  return eventually(`${count} replies to ${to}`, () =>
    Promise.resolve(sentTo(app, to).length >= count ? sentTo(app, to) : undefined),
  );
}
const userTurns = (request: { messages: Array<{ role: string; content: string }> }) =>
  request.messages.filter((m) => m.role === 'user').map((m) => m.content);

describe('a quick burst of messages', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ BURST_WINDOW_MS: '700', BURST_MAX_WAIT_MS: '5000' });
  });
  afterAll(() => app.stop());

  it('is answered by one LLM call that sees every message in order', async () => {
    const from = newSender();
    for (const Body of ['hi', 'I have a question', 'about my order']) {
      await app.postSigned(WEBHOOK, inboundParams({ From: from, Body }));
      await sleep(100);
    }
    const [reply] = await waitForReplies(app, from, 1);
    await sleep(1000);
    expect(sentTo(app, from)).toHaveLength(1);
    const calls = app.llm.requests.filter((r) => userTurns(r).includes('hi'));
    expect(calls).toHaveLength(1);
    expect(userTurns(calls[0]!)).toEqual(['hi', 'I have a question', 'about my order']);
    expect(reply!.body).toContain('about my order');
  });

  it('is merged the same way when two workers share the queue', async () => {
    const second = await startRoles(['worker'], app.config, silentLogger());
    try {
      const from = newSender();
      await Promise.all(
        ['one', 'two', 'three', 'four'].map((Body, i) =>
          sleep(i * 80).then(() => app.postSigned(WEBHOOK, inboundParams({ From: from, Body }))),
        ),
      );
      await waitForReplies(app, from, 1);
      await sleep(1200);
      expect(sentTo(app, from)).toHaveLength(1);
      const calls = app.llm.requests.filter((r) => userTurns(r).includes('one'));
      expect(calls).toHaveLength(1);
      expect(userTurns(calls[0]!)).toEqual(['one', 'two', 'three', 'four']);
    } finally {
      await second.stop();
    }
  });

  it('is answered after the maximum wait even if the user keeps typing', async () => {
    const short = await startTestApp({ BURST_WINDOW_MS: '400', BURST_MAX_WAIT_MS: '900' });
    try {
      const from = newSender();
      const started = Date.now();
      for (let i = 0; i < 8; i++) {
        await short.postSigned(WEBHOOK, inboundParams({ From: from, Body: `part ${i}` }));
        await sleep(250);
      }
      await waitForReplies(short, from, 1);
      const firstReplyAt = short.twilio.sent.find((m) => m.to === from)!.at;
      // The user typed for 2 s; the first answer did not wait for the end of it.
      expect(firstReplyAt - started).toBeLessThan(1750);
      await waitForReplies(short, from, 2);
    } finally {
      await short.stop();
    }
  });
});

describe('per-user rate limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_MAX_REQUESTS: '2', RATE_LIMIT_WINDOW_SECONDS: '60' });
  });
  afterAll(() => app.stop());

  it('answers the allowed messages, then sends one polite notice per window and makes no LLM call', async () => {
    const from = newSender();
    for (let i = 1; i <= 5; i++) {
      await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: `msg ${i}` }));
      if (i <= 2) await waitForReplies(app, from, i);
    }
    await waitForReplies(app, from, 3);
    await sleep(800);
    const bodies = sentTo(app, from).map((m) => m.body);
    expect(bodies).toHaveLength(3);
    expect(bodies.filter((b) => b === rateLimitedNotice())).toHaveLength(1);
    const seen = app.llm.requests.flatMap(userTurns);
    expect(seen).not.toContain('msg 3');
    expect(seen).not.toContain('msg 5');
    const statuses = await app.query<{
      content: string;
      processing_status: string;
      outcome_reason: string | null;
    }>(
      `select m.content, m.processing_status, m.outcome_reason
       from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' order by m.created_at`,
      [from],
    );
    expect(statuses.map((s) => [s.processing_status, s.outcome_reason])).toEqual([
      ['answered', null],
      ['answered', null],
      ['notice', 'rate_limited'],
      ['skipped', 'rate_limited'],
      ['skipped', 'rate_limited'],
    ]);
  });

  it('does not count a redelivered message against the budget (the duplicate is refused before the limit)', async () => {
    const from = newSender();
    const first = inboundParams({ From: from, Body: 'once' });
    // Twilio delivering the same message three times: one stored message, one hit of the limit.
    for (let i = 0; i < 3; i++) expect((await app.postSigned(WEBHOOK, first)).status).toBe(200);
    await waitForReplies(app, from, 1);
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'twice' }));
    const replies = await waitForReplies(app, from, 2);
    expect(replies.map((m) => m.body)).not.toContain(rateLimitedNotice());
    const rows = await app.query<{ processing_status: string }>(
      `select m.processing_status from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' order by m.created_at`,
      [from],
    );
    expect(rows.map((r) => r.processing_status)).toEqual(['answered', 'answered']);
  });

  it('counts each user separately', async () => {
    const other = newSender();
    await app.postSigned(WEBHOOK, inboundParams({ From: other, Body: 'hello' }));
    const [reply] = await waitForReplies(app, other, 1);
    expect(reply!.body).not.toBe(rateLimitedNotice());
  });
});

describe('message length cap', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ MAX_MESSAGE_LENGTH: '50' });
  });
  afterAll(() => app.stop());

  it('answers an over-long message with the limit and does not send it to the model', async () => {
    const from = newSender();
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'x'.repeat(120) }));
    const [reply] = await waitForReplies(app, from, 1);
    expect(reply!.body).toBe(tooLongNotice(50));
    expect(app.llm.requests.flatMap(userTurns).some((c) => c.startsWith('xxx'))).toBe(false);
    const [row] = await app.query<{ content: string; metadata: { originalLength: number } }>(
      `select m.content, m.metadata from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user'`,
      [from],
    );
    expect(row!.content).toHaveLength(50);
    expect(row!.metadata.originalLength).toBe(120);
  });
});

describe('fallback model', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ AI_FALLBACK_MODEL: 'openai/gpt-fallback', JOB_ATTEMPTS: '1' });
  });
  afterAll(() => app.stop());

  it('answers with the fallback model when the main one fails', async () => {
    const from = newSender();
    app.llm.respond((request) =>
      request.model === 'gpt-fallback'
        ? { text: 'from the fallback' }
        : { status: 503, errorMessage: 'overloaded' },
    );
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'help me choose a plan' }));
    const [reply] = await waitForReplies(app, from, 1);
    expect(reply!.body).toBe('from the fallback');
    const [row] = await app.query<{ model: string; error_kind: string | null }>(
      `select m.model, m.error_kind from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'assistant'`,
      [from],
    );
    expect(row).toEqual({ model: 'gpt-fallback', error_kind: null });
    // Both calls are on the record: the main model's failure and the fallback's answer.
    const calls = await app.query<{ model: string; outcome: string; error_kind: string | null }>(
      `select k.model, k.outcome, k.error_kind from model_calls k join conversations c on c.id = k.conversation_id
       where c.user_address = $1 order by k.created_at`,
      [from],
    );
    expect(calls.map((c) => [c.outcome, c.error_kind])).toEqual([
      ['failed', 'ai_unavailable'],
      ['used', null],
    ]);
    expect(calls[1]?.model).toBe('gpt-fallback');
  });
});
