/**
 * The Meta webhook route against a real PostgreSQL: the verification handshake, the signature over the raw bytes,
 * every message stored once (across and within POSTs), identity by phone and BSUID, unknown numbers, bad bodies,
 * and the webhook log rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForFile } from '../../helpers/database-for-file.js';
import {
  metaChange,
  metaContact,
  metaEnvelope,
  metaHeaders,
  metaJson,
  metaMessage,
  metaText,
  randomBsuid,
  randomWaId,
  randomWamid,
  TEST_APP_SECRET,
  TEST_VERIFY_TOKEN,
} from '../../helpers/meta.js';
import { META_PATH, startMetaApp, type MetaApp } from './meta-app.js';

const file = databaseForFile();
const SECOND_NUMBER = '3333333333';
const SECOND_SECRET = 'second-app-secret-for-number-3333';
let meta: MetaApp;

beforeAll(async () => {
  meta = await startMetaApp({
    db: file.testDb.database.db,
    rows: [{ address: SECOND_NUMBER, appSecret: SECOND_SECRET, verifyToken: 'second-verify-token' }],
    insertRow: async (address, credentials) => {
      await file.pool.query(
        `insert into business_numbers (channel, address, name, credentials_encrypted) values ('meta', $1, 'Second', $2)`,
        [address, credentials],
      );
    },
  });
});
afterAll(() => meta.close());

const messagesWith = async (providerMessageId: string) =>
  (
    await file.pool.query<{
      content: string;
      content_type: string;
      user_address: string;
      reply_address: string;
    }>(
      `select m.content, m.content_type, c.user_address, c.reply_address, c.business_address
       from messages m join conversations c on c.id = m.conversation_id where m.provider_message_id = $1`,
      [providerMessageId],
    )
  ).rows;

const textChange = (waId: string, ...messages: Array<Record<string, unknown>>) =>
  metaChange({ contacts: [metaContact({ waId })], messages });

describe('GET verification', () => {
  const verify = (query: Record<string, string>) =>
    meta.app.inject({ method: 'GET', url: `${META_PATH}?${new URLSearchParams(query).toString()}` });

  it('echoes hub.challenge as plain text for META_VERIFY_TOKEN', async () => {
    const response = await verify({
      'hub.mode': 'subscribe',
      'hub.verify_token': TEST_VERIFY_TOKEN,
      'hub.challenge': '1158201444',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe('1158201444');
  });

  it('accepts the verify token of a Meta number stored in the database', async () => {
    const response = await verify({
      'hub.mode': 'subscribe',
      'hub.verify_token': 'second-verify-token',
      'hub.challenge': 'abc',
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('abc');
  });

  it.each([
    ['a wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': 'x' }],
    [
      'a wrong mode',
      { 'hub.mode': 'unsubscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': 'x' },
    ],
    ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN }],
    ['nothing', {}],
  ])('refuses %s with 403', async (_name, query) => {
    const response = await verify(query);
    expect(response.statusCode).toBe(403);
    expect(response.body).not.toContain('x"');
  });
});

describe('POST signature', () => {
  it('refuses a POST without a signature (401) and a wrong one (403), storing nothing', async () => {
    const wamid = randomWamid();
    const body = metaEnvelope([[textChange('16505551234', metaText('hi', { waId: '16505551234' }, wamid))]]);
    const missing = await meta.post(body, { signature: null });
    expect(missing.statusCode).toBe(401);
    const wrong = await meta.post(body, { appSecret: 'not-our-secret' });
    expect(wrong.statusCode).toBe(403);
    const malformed = await meta.post(body, { signature: 'sha1=abc' });
    expect(malformed.statusCode).toBe(403);
    expect(await messagesWith(wamid)).toEqual([]);
    const refused = meta.capture.lines().filter((line) => line.kind === 'bad_signature');
    expect(refused.map((line) => line.signature)).toEqual(expect.arrayContaining(['wrong', 'malformed']));
  });

  it('verifies the escaped bytes as sent and stores the decoded text', async () => {
    const wamid = randomWamid();
    const raw = metaJson(
      metaEnvelope([[textChange('16505551234', metaText('Grüße äöå 😀', { waId: '16505551234' }, wamid))]]),
    );
    expect(raw).toContain('Gr\\u00fc\\u00dfe \\u00e4\\u00f6\\u00e5 \\ud83d\\ude00');
    const response = await meta.post(raw);
    expect(response.statusCode).toBe(200);
    expect((await messagesWith(wamid)).map((row) => row.content)).toEqual(['Grüße äöå 😀']);
  });

  it('answers 400 for a signed body that is not JSON, with a log line saying so', async () => {
    const response = await meta.post('{"object": "whatsapp_business_account", ');
    expect(response.statusCode).toBe(400);
    expect(meta.capture.text()).toContain('Meta webhook body is not JSON (its signature is valid)');
  });

  it('takes a batch over the server-wide webhook limit (64 KiB here), and refuses one over 4 MiB', async () => {
    const batch = metaJson({ object: 'whatsapp_business_account', entry: [], pad: 'x'.repeat(70 * 1024) });
    const accepted = await meta.app.inject({
      method: 'POST',
      url: META_PATH,
      headers: metaHeaders(batch),
      payload: batch,
    });
    expect(accepted.statusCode).toBe(200);
    const raw = metaJson({ object: 'whatsapp_business_account', pad: 'x'.repeat(4 * 1024 * 1024) });
    const response = await meta.app.inject({
      method: 'POST',
      url: META_PATH,
      headers: metaHeaders(raw),
      payload: raw,
    });
    expect(response.statusCode).toBe(413);
  });
});

describe('POST messages', () => {
  it('stores every message of a batch of entries and changes, each once', async () => {
    const [a, b, c] = [randomWaId(), randomWaId(), randomWaId()];
    const ids = [randomWamid(), randomWamid(), randomWamid(), randomWamid()];
    const body = metaEnvelope([
      [textChange(a, metaText('a1', { waId: a }, ids[0]), metaText('a2', { waId: a }, ids[1]))],
      [
        textChange(b, metaText('b1', { waId: b }, ids[2])),
        textChange(c, metaText('c1', { waId: c }, ids[3])),
      ],
    ]);
    expect((await meta.post(body)).statusCode).toBe(200);
    const stored = await Promise.all(ids.map(async (id) => (await messagesWith(id)).map((r) => r.content)));
    expect(stored).toEqual([['a1'], ['a2'], ['b1'], ['c1']]);
    const conversations = await file.pool.query(
      `select distinct conversation_id from messages where provider_message_id = any($1)`,
      [ids],
    );
    expect(conversations.rowCount).toBe(3);
  });

  it('stores a redelivered wamid once, across POSTs and within one, and still answers 200', async () => {
    const waId = randomWaId();
    const wamid = randomWamid();
    const twice = metaEnvelope([
      [textChange(waId, metaText('once', { waId }, wamid), metaText('once', { waId }, wamid))],
    ]);
    expect((await meta.post(twice)).statusCode).toBe(200);
    expect((await meta.post(twice)).statusCode).toBe(200);
    expect(await messagesWith(wamid)).toHaveLength(1);
    const lines = meta.capture.lines().filter((line) => line.providerMessageId === wamid);
    expect(lines.map((line) => line.duplicate)).toEqual([false, true, true, true]);
  });

  it('maps a few types through the route: voice note, reaction removal, order', async () => {
    const waId = randomWaId();
    const [voice, reaction, order] = [randomWamid(), randomWamid(), randomWamid()];
    const body = metaEnvelope([
      [
        textChange(
          waId,
          metaMessage(
            'audio',
            { audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'h=', id: '777', voice: true } },
            { waId },
            voice,
          ),
          metaMessage('reaction', { reaction: { message_id: 'wamid.earlier' } }, { waId }, reaction),
          metaMessage('order', { order: { catalog_id: 'c', product_items: [] } }, { waId }, order),
        ),
      ],
    ]);
    expect((await meta.post(body)).statusCode).toBe(200);
    expect((await messagesWith(voice))[0]).toMatchObject({
      content_type: 'media',
      content: '[Voice message (audio/ogg)]',
    });
    expect((await messagesWith(reaction))[0]).toMatchObject({
      content_type: 'reaction',
      content: '[Removed their reaction to an earlier message]',
    });
    expect((await messagesWith(order))[0]).toMatchObject({ content_type: 'unsupported' });
    const payload = await file.pool.query<{ metadata: { media: unknown[] } }>(
      `select metadata from messages where provider_message_id = $1`,
      [voice],
    );
    expect(payload.rows[0]?.metadata.media).toEqual([
      { id: '777', mimeType: 'audio/ogg; codecs=opus', sha256: 'h=', voice: true },
    ]);
  });

  it('acknowledges events for an unknown phone number id without storing them', async () => {
    const waId = randomWaId();
    const wamid = randomWamid();
    const body = metaEnvelope([
      [
        metaChange({
          phoneNumberId: '999999999',
          contacts: [metaContact({ waId })],
          messages: [metaText('hi', { waId }, wamid)],
        }),
      ],
    ]);
    expect((await meta.post(body)).statusCode).toBe(200);
    expect(await messagesWith(wamid)).toEqual([]);
    const warned = meta.capture.lines().find((line) => line.phoneNumberId === '999999999');
    expect(warned?.msg).toMatch(/does not answer/);
  });

  it('takes a stored number’s events only when signed with that number’s app secret', async () => {
    const waId = randomWaId();
    const [withEnvSecret, withOwnSecret] = [randomWamid(), randomWamid()];
    const change = (id: string) =>
      metaEnvelope([
        [
          metaChange({
            phoneNumberId: SECOND_NUMBER,
            contacts: [metaContact({ waId })],
            messages: [metaText('hi', { waId }, id)],
          }),
        ],
      ]);
    expect((await meta.post(change(withEnvSecret), { appSecret: TEST_APP_SECRET })).statusCode).toBe(200);
    expect((await meta.post(change(withOwnSecret), { appSecret: SECOND_SECRET })).statusCode).toBe(200);
    expect(await messagesWith(withEnvSecret)).toEqual([]);
    const warned = meta.capture.lines().find((line) => line.phoneNumberId === SECOND_NUMBER);
    expect(warned?.msg).toMatch(/signed with another app's secret/);
    expect((await messagesWith(withOwnSecret))[0]).toMatchObject({
      business_address: SECOND_NUMBER,
      reply_address: `+${waId}`,
    });
  });

  it('writes one webhook log row per POST, channel meta', async () => {
    const waId = randomWaId();
    const wamid = randomWamid();
    await meta.post(metaEnvelope([[textChange(waId, metaText('logged', { waId }, wamid))]]));
    await meta.flushLog();
    const rows = await file.pool.query<{
      channel: string;
      kind: string;
      response_status: number;
      headers: Record<string, string>;
    }>(`select channel, kind, response_status, headers from webhook_logs where provider_message_id = $1`, [
      wamid,
    ]);
    expect(rows.rows).toMatchObject([{ channel: 'meta', kind: 'inbound', response_status: 200 }]);
    expect(rows.rows[0]?.headers['x-hub-signature-256']).toBe('[redacted]');
  });
});

describe('identity', () => {
  it('a BSUID-only sender is stored under the BSUID, which is also where replies go', async () => {
    const bsuid = randomBsuid();
    const wamid = randomWamid();
    const body = metaEnvelope([
      [
        metaChange({
          contacts: [metaContact({ waId: '', userId: bsuid, username: 'ana' })],
          messages: [metaText('hi', { waId: '', userId: bsuid }, wamid)],
        }),
      ],
    ]);
    expect((await meta.post(body)).statusCode).toBe(200);
    expect((await messagesWith(wamid))[0]).toMatchObject({ user_address: bsuid, reply_address: bsuid });
  });

  it('a phone user who later writes with a BSUID, then with the BSUID alone, keeps one conversation', async () => {
    const waId = randomWaId();
    const bsuid = randomBsuid();
    const ids = [randomWamid(), randomWamid(), randomWamid()];
    const post = (message: Record<string, unknown>, contact: Record<string, unknown>) =>
      meta.post(metaEnvelope([[metaChange({ contacts: [contact], messages: [message] })]]));
    await post(metaText('by phone', { waId }, ids[0]), metaContact({ waId }));
    await post(metaText('both', { waId, userId: bsuid }, ids[1]), metaContact({ waId, userId: bsuid }));
    await post(
      metaText('bsuid only', { waId: '', userId: bsuid }, ids[2]),
      metaContact({ waId: '', userId: bsuid }),
    );
    const rows = await file.pool.query<{
      conversation_id: string;
      user_address: string;
      reply_address: string;
    }>(
      `select m.conversation_id, c.user_address, c.reply_address from messages m
       join conversations c on c.id = m.conversation_id where m.provider_message_id = any($1)`,
      [ids],
    );
    expect(new Set(rows.rows.map((row) => row.conversation_id)).size).toBe(1);
    expect(rows.rows[0]).toMatchObject({ user_address: bsuid, reply_address: bsuid });
  });
});
