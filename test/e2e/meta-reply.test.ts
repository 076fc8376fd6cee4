/**
 * A Meta reply through the real processes (web + worker + scheduler on real PostgreSQL and Redis), against the
 * fake Graph API: a signed Meta webhook POST to the web role, the worker marking it read with "typing…" and
 * answering through `POST /{version}/{phone-number-id}/messages` with the number's bearer token and the part id
 * as biz_opaque_callback_data, and Meta's `sent` then `delivered` status webhooks updating the part. A second Meta
 * number with its own AI configuration answers with its own system prompt and token, in the same run.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiConfig } from '../../src/db/ai-configs.js';
import { connectDb, type Database } from '../../src/db/connect.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { addNumber } from '../../src/inbox/business-numbers.js';
import { createFieldCipher, parseFieldKey } from '../../src/security/field-encryption.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';
import {
  metaChange,
  metaContact,
  metaEnvelope,
  metaHeaders,
  metaJson,
  metaStatus,
  metaText,
  randomWaId,
  randomWamid,
  TEST_ACCESS_TOKEN,
  TEST_APP_SECRET,
  TEST_PHONE_NUMBER_ID,
  TEST_VERIFY_TOKEN,
} from '../helpers/meta.js';

const PATH = '/api/whatsapp/meta/webhook/';
const VERSION = 'v23.0';
const FIELD_KEY = randomBytes(32).toString('base64');
const SECOND_ID = '209876543210987';
const SECOND_TOKEN = 'EAAsecond-number-access-token';
const SUPPORT_PROMPT = 'You are the support desk of the second number.';
const DEFAULT_PROMPT = 'You are the main number’s assistant.';

let app: TestApp;
let graph: FakeGraphApi;
let database: Database;

beforeAll(async () => {
  graph = await startFakeGraphApi();
  graph.addNumber({ phoneNumberId: TEST_PHONE_NUMBER_ID, token: TEST_ACCESS_TOKEN });
  graph.addNumber({ phoneNumberId: SECOND_ID, token: SECOND_TOKEN });
  app = await startTestApp({
    META_PHONE_NUMBER_ID: TEST_PHONE_NUMBER_ID,
    META_ACCESS_TOKEN: TEST_ACCESS_TOKEN,
    META_APP_SECRET: TEST_APP_SECRET,
    META_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    META_GRAPH_API_BASE_URL: graph.url,
    META_GRAPH_API_VERSION: VERSION,
    FIELD_ENCRYPTION_KEY: FIELD_KEY,
    AI_CONFIG_REFRESH_SECONDS: '0.2',
    SYSTEM_PROMPT: DEFAULT_PROMPT,
  });
  database = await connectDb({ kind: 'postgres', url: app.databaseUrl, poolSize: 2 });
  const deps = { db: database.db, cipher: createFieldCipher(parseFieldKey(FIELD_KEY)) };
  await createAiConfig(deps.db, deps.cipher, {
    name: 'support',
    provider: 'openai-compatible',
    model: 'support-model',
    baseUrl: app.llm.openaiBaseUrl,
    systemPrompt: SUPPORT_PROMPT,
  });
  // Same Meta app as the environment's number: only its own token; the app secret is META_APP_SECRET's.
  await addNumber(deps, CLI_ACTOR, {
    channel: 'meta',
    address: SECOND_ID,
    aiConfig: 'support',
    credentials: { accessToken: SECOND_TOKEN },
  });
  app.llm.respond((request) => ({
    text: `${request.model} answers: ${request.messages.at(-1)?.content ?? ''}`,
  }));
}, 60_000);
afterAll(async () => {
  await database.close();
  await app.stop();
  await graph.close();
});

async function postSigned(body: Record<string, unknown>): Promise<void> {
  const raw = metaJson(body);
  const response = await fetch(`${app.url}${PATH}`, { method: 'POST', headers: metaHeaders(raw), body: raw });
  expect(response.status).toBe(200);
}

/** Post a user's text to `phoneNumberId` until it is stored (a number added a moment ago may be unknown yet). */
async function deliver(phoneNumberId: string, waId: string, text: string): Promise<string> {
  const wamid = randomWamid();
  const body = metaEnvelope([
    [
      metaChange({
        phoneNumberId,
        contacts: [metaContact({ waId })],
        messages: [metaText(text, { waId }, wamid)],
      }),
    ],
  ]);
  await eventually(`${wamid} stored`, async () => {
    await postSigned(body);
    const rows = await app.query('select 1 from messages where provider_message_id = $1', [wamid]);
    return rows.length > 0 ? true : undefined;
  });
  return wamid;
}

const sentTo = (waId: string) => graph.sent.filter((m) => m.body.to === `+${waId}` || m.body.to === waId);

interface Part extends Record<string, unknown> {
  id: string;
  status: string;
  provider_message_id: string | null;
  from_address: string | null;
}
const partsTo = (waId: string) =>
  app.query<Part>(
    'select id, status, provider_message_id, from_address from deliveries where to_address = $1 order by created_at',
    [`+${waId}`],
  );

describe('a Meta reply through the real processes', () => {
  it('marks read with typing, answers through the Graph API with the bearer token, and the status webhooks update the part', async () => {
    const waId = randomWaId();
    const wamid = await deliver(TEST_PHONE_NUMBER_ID, waId, 'Where is my order?');
    const [sent] = await eventually('the reply at the fake Graph API', () =>
      Promise.resolve(sentTo(waId).length > 0 ? sentTo(waId) : undefined),
    );
    const [part] = await partsTo(waId);
    expect(part).toBeDefined();
    expect(sent).toMatchObject({ phoneNumberId: TEST_PHONE_NUMBER_ID });
    expect(sent?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: `+${waId}`,
      type: 'text',
      text: { preview_url: false, body: 'gpt-test answers: Where is my order?' },
      biz_opaque_callback_data: part?.id,
    });
    const request = graph.requests.find((r) => r.body?.biz_opaque_callback_data === part?.id);
    expect(request).toMatchObject({
      method: 'POST',
      version: VERSION,
      path: `/${TEST_PHONE_NUMBER_ID}/messages`,
      authorization: `Bearer ${TEST_ACCESS_TOKEN}`,
    });
    // The read receipt with the typing indicator went first, for the user's message, with the same token.
    expect(graph.reads).toContainEqual({
      phoneNumberId: TEST_PHONE_NUMBER_ID,
      messageId: wamid,
      typing: true,
    });
    const readRequest = graph.requests.find((r) => r.body?.status === 'read' && r.body.message_id === wamid);
    expect(readRequest?.authorization).toBe(`Bearer ${TEST_ACCESS_TOKEN}`);
    expect(graph.requests.indexOf(readRequest!)).toBeLessThan(graph.requests.indexOf(request!));
    // The model saw the environment's system prompt: this number has no persona of its own.
    const llmCall = app.llm.requests.find((r) => r.messages.at(-1)?.content === 'Where is my order?');
    expect(llmCall?.messages[0]?.role).toBe('system');
    expect(llmCall?.messages[0]?.content).toContain(DEFAULT_PROMPT);

    await eventually('the part accepted with its wamid', async () => {
      const [row] = await partsTo(waId);
      return row?.provider_message_id === sent?.wamid ? row : undefined;
    });
    const status = (value: string) =>
      metaEnvelope([
        [
          metaChange({
            statuses: [metaStatus({ id: sent!.wamid, status: value, recipientId: waId, partId: part!.id })],
          }),
        ],
      ]);
    await postSigned(status('sent'));
    expect((await partsTo(waId))[0]?.status).toBe('sent');
    await postSigned(status('delivered'));
    expect((await partsTo(waId))[0]).toMatchObject({
      status: 'delivered',
      provider_message_id: sent?.wamid,
      from_address: TEST_PHONE_NUMBER_ID,
    });
  });

  it('the second number answers with its own AI configuration (its system prompt and model) and its own token', async () => {
    const waId = randomWaId();
    const wamid = await deliver(SECOND_ID, waId, 'My screen is broken');
    const [sent] = await eventually('the reply from the second number', () =>
      Promise.resolve(sentTo(waId).length > 0 ? sentTo(waId) : undefined),
    );
    expect(sent).toMatchObject({
      phoneNumberId: SECOND_ID,
      body: { text: { preview_url: false, body: 'support-model answers: My screen is broken' } },
    });
    const request = graph.requests.find((r) => r.body?.to === `+${waId}` && r.body.type === 'text');
    expect(request).toMatchObject({
      path: `/${SECOND_ID}/messages`,
      authorization: `Bearer ${SECOND_TOKEN}`,
    });
    expect(graph.reads).toContainEqual({ phoneNumberId: SECOND_ID, messageId: wamid, typing: true });
    const llmCall = app.llm.requests.find((r) => r.messages.at(-1)?.content === 'My screen is broken');
    expect(llmCall?.model).toBe('support-model');
    expect(llmCall?.messages[0]?.role).toBe('system');
    expect(llmCall?.messages[0]?.content).toContain(SUPPORT_PROMPT);
    expect(llmCall?.messages[0]?.content).not.toContain(DEFAULT_PROMPT);
    const [conversation] = await app.query<{ business_address: string }>(
      `select c.business_address from conversations c join messages m on m.conversation_id = c.id
       where m.provider_message_id = $1`,
      [wamid],
    );
    expect(conversation?.business_address).toBe(SECOND_ID);
  });
});
