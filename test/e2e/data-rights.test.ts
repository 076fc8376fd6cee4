/**
 * A person's data rights through the API against the whole app (web, worker, scheduler; real PostgreSQL and
 * Redis; fake Twilio and LLM): admins only, the export holds their data and nobody else's, the erasure removes
 * their rows, cached context and rate-limit counter, leaves no number or text of theirs in the webhook and audit
 * logs, is audited under a pseudonym, and their next message starts afresh.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';
import { inboundParams } from '../helpers/twilio.js';
import { TEST_REDIS_URL } from '../helpers/services.js';

interface ExportDocument {
  format: string;
  subject: { address: string; pseudonym: string };
  profile: { addresses: string[]; profileNames: string[]; channels: string[] };
  conversations: Array<{
    id: string;
    mode: string;
    messages: Array<{
      direction: string;
      author: string;
      text: string;
      deliveries: Array<{ status: string }>;
    }>;
    modelCalls: Array<Record<string, unknown>>;
    notes: Array<{ body: string; authorName: string }>;
  }>;
  auditEntries: Array<{ action: string; targetId: string }>;
  webhookLogs: { count: number; retentionDays: number };
  optOut: { optedOut: boolean; entries: Array<Record<string, unknown>> };
}

let app: TestApp;
let admin: TestToken;
let agent: TestToken;
let viewer: TestToken;
let redis: Redis;
beforeAll(async () => {
  app = await startTestApp();
  [admin, agent, viewer] = await Promise.all([
    tokenFor(app, 'admin', 'dpo'),
    tokenFor(app, 'agent', 'helpdesk'),
    tokenFor(app, 'viewer', 'bi'),
  ]);
  redis = new Redis(TEST_REDIS_URL);
}, 60_000);
afterAll(async () => {
  redis.disconnect();
  await app.stop();
});

const path = (address: string) => `/users/${encodeURIComponent(address)}`;
const count = async (sql: string, values: unknown[]) =>
  (await app.query<{ n: number }>(sql, values))[0]?.n ?? -1;
const redisKeys = (pattern: string) => redis.keys(`${app.config.keyPrefix}:${pattern}`);

/** A conversation with an answered message, a status callback, a note and an operator's mode switch. */
async function personWithHistory(text: string): Promise<{ address: string; conversationId: string }> {
  const address = newSender('1555777');
  const conversationId = await answeredConversation(app, address, text);
  const [reply] = await app.query<{ sid: string }>(
    `select d.provider_message_id as sid from deliveries d where d.conversation_id = $1`,
    [conversationId],
  );
  await app.twilio.deliverStatus(reply!.sid, 'delivered');
  await eventually('the status callback stored', async () =>
    (await count(`select count(*)::int as n from delivery_events where provider_message_id = $1`, [
      reply!.sid,
    ])) > 0
      ? true
      : undefined,
  );
  await app.query(
    `insert into conversation_notes (conversation_id, author_kind, author_name, body) values ($1, 'user', 'ana', $2)`,
    [conversationId, `note about ${address}`],
  );
  const switched = await callApi(app, 'POST', `/conversations/${conversationId}/mode`, {
    token: agent.token,
    json: { mode: 'paused' },
  });
  expect(switched.status).toBe(200);
  return { address, conversationId };
}

describe('GET /api/v1/users/{address}/export and DELETE /api/v1/users/{address}', () => {
  it('admins only: viewer and agent get 403, an unknown address 404', async () => {
    const { address } = await personWithHistory('my order number is 4711');
    for (const token of [viewer, agent]) {
      expect(await callApi(app, 'GET', `${path(address)}/export`, { token: token.token })).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden' } },
      });
      expect(await callApi(app, 'DELETE', path(address), { token: token.token })).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden' } },
      });
    }
    expect(
      await count('select count(*)::int as n from conversations where user_address = $1', [address]),
    ).toBe(1);
    const unknown = await callApi(app, 'GET', `${path('whatsapp:+19999999999')}/export`, {
      token: admin.token,
    });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await callApi(app, 'DELETE', path('whatsapp:+19999999999'), { token: admin.token })).toMatchObject(
      {
        status: 404,
      },
    );
  });

  it('exports their data and nobody else’s, and audits it under their pseudonym', async () => {
    const ana = await personWithHistory('ana writes: my address is Rua A 1');
    const bob = await personWithHistory('bob writes: my address is Calle B 2');

    const answer = await callApi<ExportDocument>(app, 'GET', `${path(ana.address)}/export`, {
      token: admin.token,
    });
    expect(answer.status).toBe(200);
    const document = answer.body;
    expect(document.format).toBe('whatsapp-ai-chatbot.user-data.v1');
    expect(document.profile).toMatchObject({ addresses: [ana.address], channels: ['twilio'] });
    expect(document.conversations.map((c) => c.id)).toEqual([ana.conversationId]);
    const [conversation] = document.conversations;
    expect(conversation!.messages[0]).toMatchObject({
      direction: 'inbound',
      author: 'user',
      text: 'ana writes: my address is Rua A 1',
    });
    expect(conversation!.messages[1]).toMatchObject({ direction: 'outbound', author: 'assistant' });
    expect(conversation!.messages[1]!.deliveries[0]).toMatchObject({ status: 'delivered' });
    expect(conversation!.modelCalls.length).toBeGreaterThan(0);
    expect(conversation!.notes).toEqual([expect.objectContaining({ body: `note about ${ana.address}` })]);
    expect(document.auditEntries.map((e) => e.action)).toContain('conversation.mode');
    expect(document.webhookLogs.count).toBeGreaterThan(0);
    const text = JSON.stringify(document);
    expect(text).not.toContain(bob.address);
    expect(text).not.toContain(bob.address.replace('whatsapp:+', ''));
    expect(text).not.toContain('Calle B 2');
    expect(text).not.toContain(bob.conversationId);

    const audit = await app.query<{ actor_name: string; target_type: string; target_id: string }>(
      `select actor_name, target_type, target_id from audit_log where action = 'data.export'`,
    );
    expect(audit).toEqual([
      { actor_name: 'token dpo', target_type: 'user', target_id: document.subject.pseudonym },
    ]);
    expect(document.subject.pseudonym).toMatch(/^anon_[0-9a-f]{32}$/);
    expect(document.optOut).toEqual({ optedOut: false, entries: [] });
  });

  it('takes the number without `whatsapp:` as the same person, under the same pseudonym', async () => {
    const fay = await personWithHistory('fay writes: hello');
    const bare = fay.address.replace('whatsapp:', '');
    const full = await callApi<ExportDocument>(app, 'GET', `${path(fay.address)}/export`, {
      token: admin.token,
    });
    const short = await callApi<ExportDocument>(app, 'GET', `${path(bare)}/export`, { token: admin.token });
    expect(short.status).toBe(200);
    expect(short.body.conversations.map((c) => c.id)).toEqual([fay.conversationId]);
    expect(short.body.subject.pseudonym).toBe(full.body.subject.pseudonym);
  });

  it('shows the opt-out in the export, keeps it through an erasure, and still exports a person known only by it', async () => {
    const erin = await personWithHistory('erin writes: no more please');
    await app.query(
      `insert into opt_outs (channel, address, source, keyword) values ('twilio', $1, 'keyword', 'STOP')`,
      [erin.address],
    );
    const before = await callApi<ExportDocument>(app, 'GET', `${path(erin.address)}/export`, {
      token: admin.token,
    });
    expect(before.body.optOut).toMatchObject({
      optedOut: true,
      entries: [{ channel: 'twilio', address: erin.address, source: 'keyword', keyword: 'STOP' }],
    });
    const erased = await callApi(app, 'DELETE', path(erin.address), { token: admin.token });
    expect(erased.status).toBe(200);
    const after = await callApi<ExportDocument>(app, 'GET', `${path(erin.address)}/export`, {
      token: admin.token,
    });
    expect(after.status).toBe(200);
    expect(after.body.conversations).toEqual([]);
    expect(after.body.optOut.optedOut).toBe(true);
  });

  it('erases them: rows, context, rate-limit counter; logs keep a pseudonym; their next message starts afresh', async () => {
    const secret = 'carla writes: my passport is X1234567';
    const carla = await personWithHistory(secret);
    const dave = await personWithHistory('dave writes: hello');
    const digits = carla.address.replace('whatsapp:+', '');
    const daveDigits = dave.address.replace('whatsapp:+', '');
    // Webhook log rows are written in batches after the answer: both people's are waited for.
    await eventually('the webhook log rows written', async () =>
      (await count(`select count(*)::int as n from webhook_logs where body::text like $1`, [
        `%${digits}%`,
      ])) >= 2 &&
      (await count(`select count(*)::int as n from webhook_logs where body::text like $1`, [
        `%${daveDigits}%`,
      ])) > 0
        ? true
        : undefined,
    );
    const carlaSid = (
      await app.query<{ sid: string }>(
        'select provider_message_id as sid from deliveries where conversation_id = $1',
        [carla.conversationId],
      )
    )[0]?.sid;
    // The context is cached just after the reply is handed to Twilio: waited for, not read at once.
    await eventually('the cached context', async () =>
      (await redisKeys(`context:${carla.conversationId}`)).length === 1 ? true : undefined,
    );
    expect(await redisKeys(`rate:user:twilio:${carla.address}`)).toHaveLength(1);

    const erased = await callApi<{ erased: boolean; pseudonym: string; counts: Record<string, number> }>(
      app,
      'DELETE',
      path(carla.address),
      { token: admin.token },
    );
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      erased: true,
      hotStateCleared: true,
      counts: { conversations: 1, messages: 2, deliveries: 1, deliveryEvents: 1, notes: 1 },
    });
    expect(erased.body.counts.webhookLogs).toBeGreaterThanOrEqual(2);
    expect(erased.body.counts.auditEntries).toBe(1);

    // Gone from every table that held them; the other person untouched.
    for (const table of ['messages', 'deliveries', 'model_calls', 'conversation_notes']) {
      expect(
        await count(`select count(*)::int as n from ${table} where conversation_id = $1`, [
          carla.conversationId,
        ]),
      ).toBe(0);
      expect(
        await count(`select count(*)::int as n from ${table} where conversation_id = $1`, [
          dave.conversationId,
        ]),
      ).toBeGreaterThan(0);
    }
    expect(
      await count('select count(*)::int as n from conversations where id = $1', [carla.conversationId]),
    ).toBe(0);
    expect(await redisKeys(`context:${carla.conversationId}`)).toHaveLength(0);
    expect(await redisKeys(`rate:user:twilio:${carla.address}`)).toHaveLength(0);
    expect(await redisKeys(`rate:user:twilio:${dave.address}`)).toHaveLength(1);

    // The logs keep their rows, with neither the number nor the text.
    for (const table of ['webhook_logs', 'audit_log', 'delivery_events']) {
      const rows = await app.query<{ row: string }>(`select row_to_json(t)::text as row from ${table} t`);
      const all = rows.map((r) => r.row).join('\n');
      expect(all).not.toContain(digits);
      expect(all).not.toContain('X1234567');
      expect(all).not.toContain(carla.conversationId);
    }
    expect(
      await count(`select count(*)::int as n from webhook_logs where body->>'erased' = $1`, [
        erased.body.pseudonym,
      ]),
    ).toBe(erased.body.counts.webhookLogs);
    expect(
      await count(`select count(*)::int as n from webhook_logs where body::text like $1`, [
        `%${daveDigits}%`,
      ]),
    ).toBeGreaterThan(0);
    const audit = await app.query<{ action: string; actor_name: string; details: Record<string, unknown> }>(
      `select action, actor_name, details from audit_log where target_type = 'user' and target_id = $1
       order by created_at`,
      [erased.body.pseudonym],
    );
    expect(audit.map((a) => a.action)).toEqual(['conversation.mode', 'data.erase']);
    expect(carlaSid).toMatch(/^SM/);
    expect(audit[1]).toMatchObject({ actor_name: 'token dpo', details: { conversations: 1, messages: 2 } });

    // Erased twice: nothing is held any more.
    expect(await callApi(app, 'DELETE', path(carla.address), { token: admin.token })).toMatchObject({
      status: 404,
    });
    // A late status callback logs their number again; erasing again finds them by that log row alone.
    await app.twilio.deliverStatus(carlaSid!, 'read');
    await eventually('the late callback logged', async () =>
      (await count(`select count(*)::int as n from webhook_logs where body::text like $1`, [`%${digits}%`])) >
      0
        ? true
        : undefined,
    );
    const again = await callApi<{ counts: Record<string, number> }>(app, 'DELETE', path(carla.address), {
      token: admin.token,
    });
    expect(again).toMatchObject({ status: 200, body: { counts: { conversations: 0, webhookLogs: 1 } } });
    expect(
      await count(`select count(*)::int as n from webhook_logs where body::text like $1`, [`%${digits}%`]),
    ).toBe(0);

    // They write again: a new conversation, and the model sees nothing of the old one.
    app.llm.requests.length = 0;
    await app.postSigned(
      '/api/whatsapp/webhook/',
      inboundParams({ From: carla.address, Body: 'hello again' }),
    );
    const fresh = await eventually('the new conversation answered', async () => {
      const [row] = await app.query<{ id: string }>(
        `select c.id from conversations c join messages m on m.conversation_id = c.id and m.role = 'assistant'
         where c.user_address = $1`,
        [carla.address],
      );
      return row?.id;
    });
    expect(fresh).not.toBe(carla.conversationId);
    const prompt = JSON.stringify(app.llm.requests.at(-1)?.messages);
    expect(prompt).toContain('hello again');
    expect(prompt).not.toContain('X1234567');
  });
});
