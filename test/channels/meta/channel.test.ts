import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createMetaChannel,
  META_MAX_BODY_LENGTH,
  type MetaChannel,
} from '../../../src/channels/meta/channel.js';
import { AppError, SEND_UNCONFIRMED } from '../../../src/domain/errors.js';
import { splitReply } from '../../../src/domain/split.js';
import type { BusinessNumber, NumberDirectory, OutboundMessage, SendResult } from '../../../src/ports.js';
import { startFakeGraphApi, type FakeGraphApi } from '../../helpers/fake-graph-api.js';

const MAIN = { phoneNumberId: '106540352242922', token: 'EAAG-main-token' };
const SECOND = { phoneNumberId: '207650463353033', token: 'EAAG-second-token' };
const USER = 'whatsapp:+16505551234';

/** The directory's port over a fixed list (the database-backed one is tested with the pipeline). */
function fixedDirectory(numbers: BusinessNumber[]): NumberDirectory {
  return {
    list: (channel) => Promise.resolve(numbers.filter((n) => n.channel === channel)),
    find: (channel, address) =>
      Promise.resolve(numbers.find((n) => n.channel === channel && n.address === address) ?? null),
  };
}

function metaNumber(address: string, token: string, id: string | null = null): BusinessNumber {
  return {
    id,
    channel: 'meta',
    address,
    name: address,
    aiConfigId: null,
    credentials: { accessToken: token },
  };
}

let fake: FakeGraphApi;
let channel: MetaChannel;
const stored = new Map<string, SendResult>();

function makeChannel(confirmGraceMs?: number): MetaChannel {
  return createMetaChannel({
    graph: { baseUrl: fake.url, version: 'v24.0' },
    numbers: fixedDirectory([
      metaNumber(MAIN.phoneNumberId, MAIN.token),
      metaNumber(SECOND.phoneNumberId, SECOND.token, 'row-1'),
    ]),
    sentPart: (partId) => Promise.resolve(stored.get(partId) ?? null),
    ...(confirmGraceMs === undefined ? {} : { confirmGraceMs }),
  });
}

beforeAll(async () => {
  fake = await startFakeGraphApi();
  fake.addNumber(MAIN);
  fake.addNumber(SECOND);
  channel = makeChannel();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  stored.clear();
});

async function sendError(message: OutboundMessage, on: MetaChannel = channel): Promise<AppError> {
  const error: unknown = await on.send(message).then(
    () => new Error('expected the send to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('Meta channel send', () => {
  it('tells onSent (the status-webhook watch) of each send Meta accepted, and not of a refused one', async () => {
    const told: string[] = [];
    const watched = createMetaChannel({
      graph: { baseUrl: fake.url, version: 'v24.0' },
      numbers: fixedDirectory([metaNumber(MAIN.phoneNumberId, MAIN.token)]),
      sentPart: () => Promise.resolve(null),
      onSent: (wamid) => told.push(wamid),
    });
    const result = await watched.send({ to: USER, body: 'watched', partId: 'part-w' });
    fake.failNext(1, { status: 400, code: 131026, message: 'Message undeliverable' });
    await sendError({ to: USER, body: 'refused', partId: 'part-x' }, watched);
    expect(told).toEqual([result.providerMessageId]);
  });

  it('posts a text as Meta documents it, with the bearer token and the part id as callback data', async () => {
    const result = await channel.send({ to: USER, body: 'Hello 👋', partId: 'part-1' });
    expect(result.status).toBe('accepted');
    expect(result.providerMessageId).toMatch(/^wamid\./);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'POST',
      version: 'v24.0',
      path: `/${MAIN.phoneNumberId}/messages`,
      authorization: `Bearer ${MAIN.token}`,
    });
    expect(request?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+16505551234',
      type: 'text',
      text: { preview_url: false, body: 'Hello 👋' },
      biz_opaque_callback_data: 'part-1',
    });
    expect(fake.sent.map((m) => m.wamid)).toEqual([result.providerMessageId]);
  });

  it('declares 4096 characters, and a long reply splits at boundaries into parts Meta accepts', async () => {
    expect(channel.name).toBe('meta');
    expect(channel.maxBodyLength).toBe(4096);
    expect(channel.capabilities).toEqual({ media: true, templates: true, reactions: true });
    const paragraph = 'A sentence that goes on for a while. '.repeat(60).trim();
    const text = [paragraph, paragraph, paragraph].join('\n\n');
    const parts = splitReply(text, META_MAX_BODY_LENGTH);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part.endsWith('.')).toBe(true);
      await channel.send({ to: USER, body: part });
    }
    expect(fake.sent).toHaveLength(parts.length);
    expect(fake.sent.map((m) => (m.body.text as { body: string }).body).join('\n\n')).toBe(text);
  });

  it('splits at 4096 on a paragraph break first, else between words, never past the limit', () => {
    const first = 'First paragraph, no sentence end here '.repeat(60).trim();
    const second = 'second paragraph '.repeat(200).trim();
    expect(first.length).toBeGreaterThan(2048);
    expect(splitReply(`${first}\n\n${second}`, META_MAX_BODY_LENGTH)).toEqual([first, second]);
    const words = 'lorem '.repeat(1500).trim();
    const parts = splitReply(words, META_MAX_BODY_LENGTH);
    expect(parts.length).toBe(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part.split(' ').every((word) => word === 'lorem')).toBe(true);
    }
  });

  it('waits for a slow answer within the deadline', async () => {
    fake.delayNext(1, 200);
    const result = await channel.send({ to: USER, body: 'patience' });
    expect(result.providerMessageId).toBe(fake.sent[0]?.wamid);
  });

  it('sends from the named number with that number’s token', async () => {
    await channel.send({ to: USER, from: SECOND.phoneNumberId, body: 'from the second' });
    expect(fake.requests[0]?.path).toBe(`/${SECOND.phoneNumberId}/messages`);
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${SECOND.token}`);
    const error = await sendError({ to: USER, from: '999999999999', body: 'unknown' });
    expect(error.kind).toBe('config');
    expect(error.notSent).toBe(true);
  });

  it('sends a template with its language and numbered variables as body parameters in order', async () => {
    await channel.send({
      to: USER,
      body: '[template]',
      content: {
        type: 'template',
        templateId: 'follow_up',
        language: 'pt_BR',
        variables: { '2': '3pm', '1': 'Ana', '10': 'last' },
      },
    });
    expect(fake.sent[0]?.body).toMatchObject({
      type: 'template',
      template: {
        name: 'follow_up',
        language: { code: 'pt_BR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ana' },
              { type: 'text', text: '3pm' },
              { type: 'text', text: 'last' },
            ],
          },
        ],
      },
    });
  });

  it('sends media by link with a caption, and by media id', async () => {
    await channel.send({
      to: USER,
      body: 'a photo',
      content: {
        type: 'media',
        caption: 'a photo',
        items: [{ kind: 'image', contentType: 'image/jpeg', reference: 'https://example.com/cat.jpg' }],
      },
    });
    await channel.send({
      to: USER,
      body: '',
      content: {
        type: 'media',
        items: [{ kind: 'voice', contentType: 'audio/ogg', reference: '1234567890' }],
      },
    });
    expect(fake.sent.map((m) => m.body)).toEqual([
      expect.objectContaining({
        type: 'image',
        image: { link: 'https://example.com/cat.jpg', caption: 'a photo' },
      }),
      expect.objectContaining({ type: 'audio', audio: { id: '1234567890' } }),
    ]);
    const error = await sendError({
      to: USER,
      body: 'two',
      content: {
        type: 'media',
        items: [
          { kind: 'image', contentType: 'image/png', reference: '1' },
          { kind: 'image', contentType: 'image/png', reference: '2' },
        ],
      },
    });
    expect(error.kind).toBe('channel_unsupported');
  });

  it('sends a reaction, and an empty emoji to remove one', async () => {
    await channel.send({
      to: USER,
      body: '👍',
      content: { type: 'reaction', emoji: '👍', targetProviderMessageId: 'wamid.user-1' },
    });
    await channel.send({
      to: USER,
      body: '',
      content: { type: 'reaction', emoji: null, targetProviderMessageId: 'wamid.user-1' },
    });
    expect(fake.sent.map((m) => m.body.reaction)).toEqual([
      { message_id: 'wamid.user-1', emoji: '👍' },
      { message_id: 'wamid.user-1', emoji: '' },
    ]);
  });

  it('quotes a message with a top-level context', async () => {
    await channel.send({ to: USER, body: 'about that', quotedMessageId: 'wamid.quoted' });
    expect(fake.sent[0]?.body.context).toEqual({ message_id: 'wamid.quoted' });
  });
});

describe('Meta channel errors', () => {
  it.each([
    { code: 131047, status: 400, kind: 'channel_rejected', retryable: false },
    { code: 131026, status: 400, kind: 'channel_rejected', retryable: false },
    { code: 132001, status: 404, kind: 'channel_rejected', retryable: false },
    { code: 100, status: 400, kind: 'channel_rejected', retryable: false },
    { code: 190, status: 401, kind: 'channel_auth', retryable: false },
    { code: 130429, status: 400, kind: 'channel_rate_limited', retryable: true },
    { code: 131056, status: 400, kind: 'channel_rate_limited', retryable: true },
    { code: 131000, status: 500, kind: 'channel_unavailable', retryable: true },
  ])('Meta error $code (HTTP $status) is $kind', async ({ code, status, kind, retryable }) => {
    fake.failNext(1, { status, code, message: 'refused by the fake', details: 'why' });
    const error = await sendError({ to: USER, body: 'hi' });
    // A 4xx refused the message; a 5xx may come after Meta took it (findSent decides).
    expect(error).toMatchObject({ kind, retryable, code: String(code), notSent: status < 500 });
    expect(error.message).toContain(`code ${code}`);
    expect(error.message).toContain('why');
    expect(error.message).not.toContain(MAIN.token);
    expect(channel.state().lastError).toMatchObject({ kind, code: String(code) });
  });

  it('a wrong token is an auth error that names no token', async () => {
    const wrong = createMetaChannel({
      graph: { baseUrl: fake.url, version: 'v24.0' },
      numbers: fixedDirectory([metaNumber(MAIN.phoneNumberId, 'EAAG-not-the-token')]),
      sentPart: () => Promise.resolve(null),
    });
    const error = await sendError({ to: USER, body: 'hi' }, wrong);
    expect(error).toMatchObject({ kind: 'channel_auth', code: '190', retryable: false });
    expect(JSON.stringify(error) + error.message).not.toContain('EAAG-not-the-token');
  });

  it('a request Meta does not answer times out as an ambiguous, retryable failure', async () => {
    fake.hangNext(1);
    const slow = createMetaChannel({
      graph: { baseUrl: fake.url, version: 'v24.0' },
      numbers: fixedDirectory([metaNumber(MAIN.phoneNumberId, MAIN.token)]),
      sentPart: () => Promise.resolve(null),
      requestTimeoutMs: 300,
    });
    const error = await sendError({ to: USER, body: 'hi' }, slow);
    expect(error).toMatchObject({ kind: 'channel_unavailable', retryable: true, notSent: false });
    expect(error.message).toContain('network error ETIMEDOUT');
  });

  it('a 5xx without an envelope may have been taken: retryable and ambiguous', async () => {
    fake.failNext(1, { status: 502, code: 0, message: '', bare: true });
    const error = await sendError({ to: USER, body: 'hi' });
    expect(error).toMatchObject({ kind: 'channel_unavailable', retryable: true, notSent: false });
  });

  it('an unknown path (a wrong base URL) is refused, not retried', async () => {
    const wrongBase = createMetaChannel({
      graph: { baseUrl: `${fake.url}/not-graph`, version: 'v24.0' },
      numbers: fixedDirectory([metaNumber(MAIN.phoneNumberId, MAIN.token)]),
      sentPart: () => Promise.resolve(null),
    });
    const error = await sendError({ to: USER, body: 'hi' }, wrongBase);
    expect(error).toMatchObject({ kind: 'channel_rejected', notSent: true, retryable: false });
  });
});

describe('Meta channel findSent (no "find my message" query: the status webhook names the part)', () => {
  it('returns the provider id stored for the part', async () => {
    stored.set('part-9', { providerMessageId: 'wamid.adopted', status: 'sent' });
    expect(await channel.findSent({ to: USER, body: 'x', sentAfter: new Date(), partId: 'part-9' })).toEqual({
      providerMessageId: 'wamid.adopted',
      status: 'sent',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('within the grace period, an unnamed part is unknown: a retryable SEND_UNCONFIRMED, never null', async () => {
    const error: unknown = await channel
      .findSent({ to: USER, body: 'x', sentAfter: new Date(Date.now() - 10_000), partId: 'part-2' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: SEND_UNCONFIRMED, retryable: true });
    expect((error as AppError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as AppError).retryAfterSeconds).toBeLessThanOrEqual(15);
  });

  it('after the grace period with no status, the part is taken as never sent (null)', async () => {
    const sentAfter = new Date(Date.now() - 3 * 60_000 - 1000);
    expect(await channel.findSent({ to: USER, body: 'x', sentAfter, partId: 'part-3' })).toBeNull();
    const short = makeChannel(1000);
    expect(
      await short.findSent({ to: USER, body: 'x', sentAfter: new Date(Date.now() - 2000), partId: 'p' }),
    ).toBeNull();
  });
});

describe('Meta channel read receipts and senders', () => {
  it('marks a message read with the typing indicator, from the number it came to', async () => {
    await channel.acknowledge({ providerMessageId: 'wamid.in-1', from: SECOND.phoneNumberId });
    expect(fake.reads).toEqual([
      { phoneNumberId: SECOND.phoneNumberId, messageId: 'wamid.in-1', typing: true },
    ]);
    expect(fake.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.in-1',
      typing_indicator: { type: 'text' },
    });
    expect(fake.sent).toHaveLength(0);
  });

  it('lists every Meta number of the directory as a sender, the default first', async () => {
    expect(await channel.refreshSenders()).toEqual([MAIN.phoneNumberId, SECOND.phoneNumberId]);
    expect(channel.senders).toEqual([MAIN.phoneNumberId, SECOND.phoneNumberId]);
  });
});
