/**
 * Several business numbers in one running deployment (web + worker + scheduler on real PostgreSQL and Redis):
 * each number answers with its own persona and from itself, numbers added after the start are picked up, a number
 * of another Twilio account is verified with its own auth token and sends with its own credentials, and a message
 * to a number that is none of ours is acknowledged and never stored.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiConfig } from '../../src/db/ai-configs.js';
import { connectDb, type Database } from '../../src/db/connect.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { addNumber } from '../../src/inbox/business-numbers.js';
import { createFieldCipher, parseFieldKey } from '../../src/security/field-encryption.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams, signParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const FIELD_KEY = randomBytes(32).toString('base64');
const SALES = 'whatsapp:+14155230010';
const SUPPORT = 'whatsapp:+14155230020';
const OTHER_ACCOUNT_NUMBER = 'whatsapp:+14155230030';
const OTHER_ACCOUNT = { accountSid: 'AC' + 'cd'.repeat(16), authToken: 'other-account-auth-token' };

let app: TestApp;
let database: Database;
beforeAll(async () => {
  app = await startTestApp(
    ({ databaseUrl }) => ({
      FIELD_ENCRYPTION_KEY: FIELD_KEY,
      AI_CONFIG_REFRESH_SECONDS: '0.2',
      DATABASE_URL: databaseUrl,
    }),
    ['web', 'worker', 'scheduler'],
    undefined,
    { otherAccounts: [OTHER_ACCOUNT] },
  );
  database = await connectDb({ kind: 'postgres', url: app.databaseUrl, poolSize: 2 });
  const deps = { db: database.db, cipher: createFieldCipher(parseFieldKey(FIELD_KEY)) };
  // Added while the app runs: its processes must pick them up without a restart.
  for (const persona of ['sales', 'support'])
    await createAiConfig(deps.db, deps.cipher, {
      name: persona,
      provider: 'openai-compatible',
      model: `${persona}-model`,
      baseUrl: app.llm.openaiBaseUrl,
      systemPrompt: `You are the ${persona} assistant.`,
    });
  await addNumber(deps, CLI_ACTOR, { channel: 'twilio', address: SALES, aiConfig: 'sales' });
  await addNumber(deps, CLI_ACTOR, { channel: 'twilio', address: SUPPORT, aiConfig: 'support' });
  await addNumber(deps, CLI_ACTOR, {
    channel: 'twilio',
    address: OTHER_ACCOUNT_NUMBER,
    aiConfig: 'support',
    credentials: OTHER_ACCOUNT,
  });
  app.llm.respond((request) => ({
    text: `${request.model} answers: ${request.messages.at(-1)?.content ?? ''}`,
  }));
});
afterAll(async () => {
  await database.close();
  await app.stop();
});

const storedMessage = async (sid: string) =>
  (await app.query('select 1 from messages where provider_message_id = $1', [sid])).length > 0;

/**
 * Post until the message is stored: a number added a moment ago is unknown to the web process until its directory
 * refreshes, and a message to an unknown number is acknowledged and dropped (the same MessageSid each time).
 */
async function deliver(params: Record<string, string>, authToken = app.twilio.authToken): Promise<void> {
  await eventually(`${params.MessageSid ?? ''} stored`, async () => {
    const response = await app.postSigned(WEBHOOK, params, {
      signature: signParams(authToken, `${app.url}${WEBHOOK}`, params),
    });
    expect(response.status).toBe(200);
    return (await storedMessage(params.MessageSid ?? '')) ? true : undefined;
  });
}

const repliesTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);

describe('several business numbers', { timeout: 120_000 }, () => {
  it('two numbers answer the same person in the same run, each with its persona and from itself', async () => {
    const person = 'whatsapp:+14155550901';
    await deliver(inboundParams({ From: person, To: SALES, Body: 'price?' }));
    await deliver(inboundParams({ From: person, To: SUPPORT, Body: 'broken!' }));
    const replies = await eventually('two replies', () =>
      Promise.resolve(repliesTo(person).length >= 2 ? repliesTo(person) : undefined),
    );
    const byNumber = Object.fromEntries(replies.map((m) => [m.from, m.body]));
    expect(byNumber).toEqual({
      [SALES]: 'sales-model answers: price?',
      [SUPPORT]: 'support-model answers: broken!',
    });
    const prompts = app.llm.requests
      .filter((r) => r.messages.some((m) => m.content === 'price?' || m.content === 'broken!'))
      .map((r) => [r.model, r.messages[0]?.content]);
    expect(prompts.sort()).toEqual([
      ['sales-model', 'You are the sales assistant.'],
      ['support-model', 'You are the support assistant.'],
    ]);
    const conversations = await app.query<{ business_address: string }>(
      'select business_address from conversations where user_address = $1 order by business_address',
      [person],
    );
    expect(conversations.map((c) => c.business_address)).toEqual([SALES, SUPPORT].sort());
  });

  it('the environment’s number still answers with the environment’s settings', async () => {
    const person = 'whatsapp:+14155550902';
    await deliver(inboundParams({ From: person, To: BUSINESS_NUMBER, Body: 'hello' }));
    const [reply] = await eventually('a reply', () =>
      Promise.resolve(repliesTo(person).length >= 1 ? repliesTo(person) : undefined),
    );
    expect(reply).toMatchObject({ from: BUSINESS_NUMBER, body: 'gpt-test answers: hello' });
  });

  it('a number of another Twilio account: its webhook verified with its token, its reply sent with its credentials', async () => {
    const person = 'whatsapp:+14155550903';
    const params = inboundParams({ From: person, To: OTHER_ACCOUNT_NUMBER, Body: 'hi other' });
    const forged = await app.postSigned(WEBHOOK, params);
    expect(forged.status).toBe(403);
    await deliver(params, OTHER_ACCOUNT.authToken);
    const [reply] = await eventually('a reply', () =>
      Promise.resolve(repliesTo(person).length >= 1 ? repliesTo(person) : undefined),
    );
    expect(reply).toMatchObject({ from: OTHER_ACCOUNT_NUMBER, accountSid: OTHER_ACCOUNT.accountSid });
  });

  it('a message to a number that is none of ours is acknowledged with empty TwiML and never stored', async () => {
    // Known to the web process by now: a later message to an unknown number is refused for what it is.
    await deliver(inboundParams({ To: SALES, Body: 'a known number first' }));
    const params = inboundParams({
      From: 'whatsapp:+14155550904',
      To: 'whatsapp:+19995550000',
      Body: 'hello?',
    });
    const response = await app.postSigned(WEBHOOK, params);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<Response/>');
    const logged = await eventually('the webhook log row', async () => {
      const rows = await app.query<{ error: string | null }>(
        "select error from webhook_logs where body->>'MessageSid' = $1",
        [params.MessageSid],
      );
      return rows[0];
    });
    expect(logged.error).toBe('unknown business number');
    expect(await storedMessage(params.MessageSid ?? '')).toBe(false);
    expect(await app.query('select 1 from conversations where user_address = $1', [params.From])).toEqual([]);
  });
});
