/**
 * The HTTP API's reads and its refusals, against the whole app (web, worker, scheduler) with fake Twilio and
 * LLM: tokens, the conversation list with its filters and pages, one conversation, its messages, the error
 * shape, and the OpenAPI description that must name every route.
 */
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiToken } from '../../src/db/api-tokens.js';
import { API_PREFIX, registerApi } from '../../src/http/api/routes.js';
import { registerIpRateLimit } from '../../src/http/ip-rate-limit.js';
import { createServer } from '../../src/http/server.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { captureLines } from '../log/capture.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';

interface Conversation {
  id: string;
  user: string;
  profileName: string | null;
  channel: string;
  mode: string;
  lastMessageAt: string;
  assignee: string | null;
}
interface Message {
  id: string;
  direction: string;
  author: string;
  text: string;
  kind: string;
  status: string | null;
  outcome: string | null;
  createdAt: string;
}
type ConversationPage = { conversations: Conversation[]; nextCursor: string | null };
type MessagePage = { messages: Message[]; nextCursor: string | null };

let app: TestApp;
let viewer: TestToken;
const senders = [newSender('1415666'), newSender('1415666'), newSender('1415666')];
const ids: string[] = [];
beforeAll(async () => {
  app = await startTestApp();
  viewer = await tokenFor(app, 'viewer', 'reader');
  // One after the other, so their activity times are in this order.
  for (const sender of senders) ids.push(await answeredConversation(app, sender, `hello from ${sender}`));
}, 60_000);
afterAll(() => app.stop());

describe('API authentication', () => {
  it('answers 401 with the error shape without a token, with an unknown or a revoked one', async () => {
    const revoked = await tokenFor(app, 'admin', 'gone');
    await revokeApiToken(app.running.composed.deps.db, 'gone');
    const answers = await Promise.all([
      callApi(app, 'GET', '/conversations'),
      callApi(app, 'GET', '/conversations', { token: `wacb_${'A'.repeat(43)}` }),
      callApi(app, 'GET', '/conversations', { token: revoked.token }),
      callApi(app, 'GET', '/conversations', { headers: { authorization: `Basic ${viewer.token}` } }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) as string } });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('logs a refused token with the client address and why, never the token itself', async () => {
    const logs = captureLines();
    const server = createServer({
      log: createLogger({ level: 'info', destination: logs.stream }),
      bodyLimitBytes: 1_000_000,
      trustProxy: false,
    });
    registerApi(server, app.running.composed.deps);
    const forged = `wacb_${'B'.repeat(43)}`;
    const answer = await server.inject({
      url: '/api/v1/conversations',
      headers: { authorization: `Bearer ${forged}` },
    });
    await server.close();
    expect(answer.statusCode).toBe(401);
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        msg: 'API request refused: no valid token',
        reason: 'unknown or revoked',
        ip: '127.0.0.1',
      }),
    );
    expect(logs.text()).not.toContain('BBBBBBBB');
  });

  it('serves the OpenAPI description without a token, naming every route of /api/v1/', async () => {
    const answer = await callApi<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, { scheme?: string }>; schemas: Record<string, unknown> };
    }>(app, 'GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    expect(answer.body.components.securitySchemes.bearerAuth?.scheme).toBe('bearer');
    expect(answer.body.components.schemas).toHaveProperty('Error');

    // The routes as Fastify registers them, collected from a server of their own.
    const routes: Array<Pick<RouteOptions, 'method' | 'url'>> = [];
    const server = createServer({ log: silentLogger(), bodyLimitBytes: 1_000_000, trustProxy: false });
    server.addHook('onRoute', (route) => {
      if (route.url.startsWith(API_PREFIX)) routes.push(route);
    });
    registerApi(server, app.running.composed.deps, {
      dataRights: { pseudonymize: (address) => address, webhookLogRetentionDays: 30 },
    });
    await server.ready();
    await server.close();
    const documented = Object.entries(answer.body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes) {
      const path = route.url.slice(API_PREFIX.length).replace(/:(\w+)/g, '{$1}');
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue; // Fastify adds HEAD to every GET.
        expect(documented).toContain(`${method} ${path}`);
      }
    }
  });
});

describe('API and the per-IP flood guard', () => {
  it('counts API requests, and its 429 has the API’s error shape', async () => {
    const server = createServer({ log: silentLogger(), bodyLimitBytes: 1_000_000, trustProxy: false });
    registerIpRateLimit(server, { max: 1, windowSeconds: 60, log: silentLogger() });
    registerApi(server, app.running.composed.deps);
    const get = () =>
      server.inject({ url: '/api/v1/conversations', headers: { authorization: `Bearer ${viewer.token}` } });
    const first = await get();
    const second = await get();
    await server.close();
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toEqual(expect.any(String) as string);
    expect(second.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) as string } });
  });
});

describe('GET /api/v1/conversations', () => {
  it('lists newest activity first, in the documented shape, with the channel address as user', async () => {
    const answer = await callApi<ConversationPage>(app, 'GET', '/conversations', { token: viewer.token });
    expect(answer.status).toBe(200);
    const mine = answer.body.conversations.filter((c) => ids.includes(c.id));
    expect(mine.map((c) => c.id)).toEqual([...ids].reverse());
    expect(mine[0]).toEqual({
      id: ids[2],
      user: senders[2],
      profileName: 'Test User',
      channel: 'twilio',
      mode: 'bot',
      lastMessageAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      assignee: null,
      handoffAt: null,
      handoffReason: null,
      optedOut: false,
      optedOutAt: null,
      optOutSource: null,
      optOutKeyword: null,
      // The user just wrote: WhatsApp's 24-hour window is open.
      window: { open: true, closesAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string },
    });
    expect(answer.body.nextCursor).toBeNull();
  });

  it('pages with an opaque cursor: every conversation once, in order', async () => {
    const all = await callApi<ConversationPage>(app, 'GET', '/conversations?limit=200', {
      token: viewer.token,
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page: { body: ConversationPage } = await callApi<ConversationPage>(
        app,
        'GET',
        `/conversations?limit=2${query}`,
        { token: viewer.token },
      );
      expect(page.body.conversations.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.conversations.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(all.body.conversations.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(all.body.conversations.map((c) => c.id));
  });

  it('filters by the user address exactly and by mode', async () => {
    const byUser = await callApi<ConversationPage>(
      app,
      'GET',
      `/conversations?user=${encodeURIComponent(senders[1]!)}`,
      { token: viewer.token },
    );
    expect(byUser.body.conversations.map((c) => c.id)).toEqual([ids[1]]);
    const partial = await callApi<ConversationPage>(
      app,
      'GET',
      `/conversations?user=${encodeURIComponent(senders[1]!.slice(0, -1))}`,
      { token: viewer.token },
    );
    expect(partial.body.conversations).toEqual([]);

    await app.query(`update conversations set mode = 'paused' where id = $1`, [ids[0]]);
    const paused = await callApi<ConversationPage>(app, 'GET', '/conversations?mode=paused', {
      token: viewer.token,
    });
    expect(paused.body.conversations.map((c) => c.id)).toEqual([ids[0]]);
    const human = await callApi<ConversationPage>(app, 'GET', '/conversations?mode=human', {
      token: viewer.token,
    });
    expect(human.body.conversations.map((c) => c.id)).not.toContain(ids[0]);
    await app.query(`update conversations set mode = 'bot' where id = $1`, [ids[0]]);
  });

  it('refuses a bad limit, mode or cursor with 400 and a code', async () => {
    const [zero, words, mode, cursor] = await Promise.all(
      ['limit=0', 'limit=ten', 'mode=robot', 'cursor=bm90LWEtY3Vyc29y'].map((query) =>
        callApi(app, 'GET', `/conversations?${query}`, { token: viewer.token }),
      ),
    );
    for (const answer of [zero, words, mode]) {
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_query' } } });
    }
    expect(cursor).toMatchObject({ status: 400, body: { error: { code: 'invalid_cursor' } } });
  });
});

describe('GET /api/v1/conversations/{id}', () => {
  it('answers the conversation itself, and 404 for an unknown or malformed id', async () => {
    const found = await callApi<Conversation>(app, 'GET', `/conversations/${ids[1]}`, {
      token: viewer.token,
    });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: ids[1], user: senders[1], mode: 'bot', channel: 'twilio' });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const missing = await callApi(app, 'GET', `/conversations/${id}`, { token: viewer.token });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
    }
    const route = await callApi(app, 'GET', '/no-such-endpoint', { token: viewer.token });
    expect(route.status).toBe(404);
    expect(route.body).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('GET /api/v1/conversations/{id}/messages', () => {
  it('answers the messages oldest first: the user’s with its outcome, the reply with its delivery', async () => {
    const answer = await callApi<MessagePage>(app, 'GET', `/conversations/${ids[0]}/messages`, {
      token: viewer.token,
    });
    expect(answer.status).toBe(200);
    const [inbound, reply] = answer.body.messages;
    expect(answer.body.messages).toHaveLength(2);
    expect(inbound).toEqual({
      id: expect.any(String) as string,
      direction: 'inbound',
      author: 'user',
      text: `hello from ${senders[0]}`,
      kind: 'text',
      status: 'answered',
      outcome: 'answered by the model',
      outcomeReason: null,
      error: null,
      windowTemplate: null,
      createdAt: expect.any(String) as string,
    });
    expect(reply).toMatchObject({
      direction: 'outbound',
      author: 'assistant',
      text: `fake reply to: hello from ${senders[0]}`,
      outcome: null,
      error: null,
      windowTemplate: null,
    });
    expect(['sent', 'queued', 'accepted', 'delivered', 'read']).toContain(reply?.status);
    expect(answer.body.nextCursor).toBeNull();
  });

  it('bounds the page to the newest `limit`, with a cursor to the older ones', async () => {
    const newest = await callApi<MessagePage>(app, 'GET', `/conversations/${ids[0]}/messages?limit=1`, {
      token: viewer.token,
    });
    expect(newest.body.messages.map((m) => m.direction)).toEqual(['outbound']);
    expect(newest.body.nextCursor).toEqual(expect.any(String) as string);
    const older = await callApi<MessagePage>(
      app,
      'GET',
      `/conversations/${ids[0]}/messages?limit=1&cursor=${newest.body.nextCursor}`,
      { token: viewer.token },
    );
    expect(older.body.messages.map((m) => m.direction)).toEqual(['inbound']);
    expect(older.body.nextCursor).toBeNull();
  });

  it('answers 404 for an unknown conversation', async () => {
    const answer = await callApi(app, 'GET', '/conversations/00000000-0000-4000-8000-000000000000/messages', {
      token: viewer.token,
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
  });
});
