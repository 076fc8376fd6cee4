/**
 * The Meta webhook in the real web role over a socket: registered by `startRoles`, configured from META_*
 * variables, storing a signed message in PostgreSQL; and a server without any Meta
 * number answers the path with 404, logging no error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import {
  metaChange,
  metaContact,
  metaEnvelope,
  metaHeaders,
  metaJson,
  metaText,
  randomWaId,
  randomWamid,
  TEST_ACCESS_TOKEN,
  TEST_APP_SECRET,
  TEST_PHONE_NUMBER_ID,
  TEST_VERIFY_TOKEN,
} from '../helpers/meta.js';

const PATH = '/api/whatsapp/meta/webhook/';
let withMeta: TestApp;
let withoutMeta: TestApp;
let capture: CapturedLog;

beforeAll(async () => {
  capture = captureLog('trace');
  [withMeta, withoutMeta] = await Promise.all([
    startTestApp(
      {
        META_PHONE_NUMBER_ID: TEST_PHONE_NUMBER_ID,
        META_ACCESS_TOKEN: TEST_ACCESS_TOKEN,
        META_APP_SECRET: TEST_APP_SECRET,
        META_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
      },
      ['web'],
    ),
    startTestApp({}, ['web'], capture.log),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([withMeta.stop(), withoutMeta.stop()]);
});

describe('the Meta webhook of the web role', () => {
  it('answers the verification handshake with the challenge', async () => {
    const query = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.verify_token': TEST_VERIFY_TOKEN,
      'hub.challenge': '987654321',
    });
    const response = await fetch(`${withMeta.url}${PATH}?${query.toString()}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('987654321');
  });

  it('stores a signed message and logs the webhook', async () => {
    const waId = randomWaId();
    const wamid = randomWamid();
    const raw = metaJson(
      metaEnvelope([
        [metaChange({ contacts: [metaContact({ waId })], messages: [metaText('¿Hola?', { waId }, wamid)] })],
      ]),
    );
    const response = await fetch(`${withMeta.url}${PATH}`, {
      method: 'POST',
      headers: metaHeaders(raw),
      body: raw,
    });
    expect(response.status).toBe(200);
    const stored = await withMeta.query<{ content: string; channel: string; reply_address: string }>(
      `select m.content, c.channel, c.reply_address from messages m join conversations c on c.id = m.conversation_id
       where m.provider_message_id = $1`,
      [wamid],
    );
    expect(stored).toEqual([{ content: '¿Hola?', channel: 'meta', reply_address: `+${waId}` }]);
    const logged = await eventually('the webhook log row', async () => {
      const rows = await withMeta.query(
        `select channel, kind from webhook_logs where provider_message_id = $1`,
        [wamid],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(logged).toEqual([{ channel: 'meta', kind: 'inbound' }]);
  });

  it('is 404 on a server without a Meta number, with no error logged', async () => {
    const raw = metaJson(metaEnvelope([]));
    const post = await fetch(`${withoutMeta.url}${PATH}`, {
      method: 'POST',
      headers: metaHeaders(raw),
      body: raw,
    });
    expect(post.status).toBe(404);
    const verify = await fetch(
      `${withoutMeta.url}${PATH}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`,
    );
    expect(verify.status).toBe(404);
    expect(capture.lines().filter((line) => line.level >= 50)).toEqual([]);
  });
});
