import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTwilioChannel,
  fetchTwilioAccount,
  TWILIO_MAX_BODY_LENGTH,
} from '../../../src/channels/twilio/channel.js';
import { TWILIO_MAX_SOCKETS } from '../../../src/channels/twilio/client.js';
import { createNumberDirectory } from '../../../src/channels/number-directory.js';
import { insertBusinessNumber, updateBusinessNumber } from '../../../src/db/business-numbers.js';
import { createLogger } from '../../../src/log.js';
import { parseTwilioStatus } from '../../../src/channels/twilio/inbound.js';
import { verifyTwilioSignature } from '../../../src/channels/twilio/signature.js';
import type { TwilioSettings } from '../../../src/config/load.js';
import { AppError } from '../../../src/domain/errors.js';
import type { Channel } from '../../../src/ports.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio-server.js';
import { createTestDatabase } from '../../helpers/database.js';
import { parseForm, randomUserAddress, TEST_BUSINESS_NUMBER, type FormParams } from '../../helpers/twilio.js';

let fake: FakeTwilio;
let settings: TwilioSettings;
let channel: Channel;

beforeAll(async () => {
  fake = await startFakeTwilio();
  settings = {
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    whatsappNumber: TEST_BUSINESS_NUMBER,
    apiBaseUrl: fake.url,
  };
  channel = createTwilioChannel(settings);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

async function sendError(message: Parameters<Channel['send']>[0], on: Channel = channel): Promise<AppError> {
  const error: unknown = await on.send(message).then(
    () => new Error('expected send to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Everything an error could leak into a log line, its causes included. */
function everything(error: unknown): string {
  return inspect(error, { depth: 10, showHidden: true }) + JSON.stringify(error);
}

describe('Twilio channel send', () => {
  it('is named twilio and declares the WhatsApp body limit', () => {
    expect(channel.name).toBe('twilio');
    expect(channel.maxBodyLength).toBe(TWILIO_MAX_BODY_LENGTH);
    expect(TWILIO_MAX_BODY_LENGTH).toBe(1600);
  });

  it('sends through TWILIO_API_BASE_URL with the account credentials and the right params', async () => {
    const to = randomUserAddress();
    const result = await channel.send({
      to,
      body: 'Hello 👋',
      statusCallbackUrl: 'https://bot.example.com/api/whatsapp/status/',
    });
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
    expect(fake.sent).toEqual([
      {
        sid: result.providerMessageId,
        accountSid: fake.accountSid,
        to,
        from: TEST_BUSINESS_NUMBER,
        body: 'Hello 👋',
        statusCallback: 'https://bot.example.com/api/whatsapp/status/',
        at: expect.any(Number) as number,
      },
    ]);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`,
    });
    expect(request!.authorized).toBe(true);
    expect(request!.params).toEqual({
      To: to,
      From: TEST_BUSINESS_NUMBER,
      Body: 'Hello 👋',
      StatusCallback: 'https://bot.example.com/api/whatsapp/status/',
    });
  });

  it('uses an explicit from and sends no StatusCallback when there is no public URL', async () => {
    await channel.send({ to: randomUserAddress(), from: 'whatsapp:+14155550000', body: 'x' });
    expect(fake.sent[0]!.from).toBe('whatsapp:+14155550000');
    expect(fake.requests[0]!.params).not.toHaveProperty('StatusCallback');
  });

  it('sends to a business-scoped id exactly as given (Twilio takes it where it takes a number; no +)', async () => {
    await channel.send({ to: 'whatsapp:CO.899759302823042', body: 'hi' });
    expect(fake.requests[0]!.params).toMatchObject({ To: 'whatsapp:CO.899759302823042' });
    expect(fake.sent[0]!.to).toBe('whatsapp:CO.899759302823042');
  });

  it('maps a wrong auth token to channel_auth, not retryable, without leaking the token', async () => {
    const wrong = createTwilioChannel({ ...settings, authToken: 'wrong-token-0123456789abcdef' });
    const error = await sendError({ to: randomUserAddress(), body: 'x' }, wrong);
    expect(error).toMatchObject({ kind: 'channel_auth', retryable: false, code: '20003' });
    expect(fake.requests[0]!.authorized).toBe(false);
    expect(fake.sent).toHaveLength(0);
    expect(everything(error)).not.toContain('wrong-token-0123456789abcdef');
  });

  const mappings: Array<[string, Parameters<FakeTwilio['failNext']>[1], Partial<AppError>]> = [
    [
      '429 → rate limited with Retry-After',
      { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 7 },
      { kind: 'channel_rate_limited', retryable: true, retryAfterSeconds: 7, code: '20429', notSent: true },
    ],
    [
      '429 without Retry-After',
      { status: 429, code: 20429, message: 'Too Many Requests' },
      { kind: 'channel_rate_limited', retryable: true, retryAfterSeconds: undefined, code: '20429' },
    ],
    [
      '500 → unavailable, retryable',
      { status: 500, code: 20500, message: 'Internal Server Error' },
      { kind: 'channel_unavailable', retryable: true, code: '20500', notSent: false },
    ],
    [
      '503 → unavailable, retryable',
      { status: 503, code: 20503, message: 'Service Unavailable' },
      { kind: 'channel_unavailable', retryable: true, code: '20503', notSent: false },
    ],
    [
      '403 → auth',
      { status: 403, code: 20403, message: 'Forbidden' },
      { kind: 'channel_auth', retryable: false, code: '20403' },
    ],
    [
      '21211 invalid number → rejected',
      { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
      { kind: 'channel_rejected', retryable: false, code: '21211', notSent: true },
    ],
    [
      '21610 unsubscribed recipient → rejected',
      { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
      { kind: 'channel_rejected', retryable: false, code: '21610' },
    ],
    [
      '63016 outside the 24 h window → rejected',
      {
        status: 400,
        code: 63016,
        message: 'Failed to send freeform message because you are outside the allowed window.',
      },
      { kind: 'channel_rejected', retryable: false, code: '63016' },
    ],
    [
      '21617 too long → rejected',
      {
        status: 400,
        code: 21617,
        message: 'The concatenated message body exceeds the 1600 character limit.',
      },
      { kind: 'channel_rejected', retryable: false, code: '21617' },
    ],
    [
      '21408 region not enabled, even with a 403 → rejected',
      { status: 403, code: 21408, message: 'Permission to send an SMS has not been enabled for the region' },
      { kind: 'channel_rejected', retryable: false, code: '21408' },
    ],
  ];
  it.each(mappings)('maps %s', async (_name, failure, expected) => {
    fake.failNext(1, failure);
    const error = await sendError({ to: randomUserAddress(), body: 'x' });
    expect(error).toMatchObject(expected);
    expect(error.message).toContain(String(failure.code));
    expect(everything(error)).not.toContain(fake.authToken);
    // Only the next send failed.
    await expect(channel.send({ to: randomUserAddress(), body: 'y' })).resolves.toMatchObject({
      status: 'queued',
    });
  });

  it('gets 21617 from the API for a body over 1600 characters', async () => {
    const error = await sendError({ to: randomUserAddress(), body: 'a'.repeat(1601) });
    expect(error).toMatchObject({ kind: 'channel_rejected', retryable: false, code: '21617' });
    await expect(channel.send({ to: randomUserAddress(), body: 'a'.repeat(1600) })).resolves.toBeDefined();
  });

  it('maps a network error (nothing listening) to channel_unavailable, retryable, without the credentials', async () => {
    const closed = await startFakeTwilio();
    const url = closed.url;
    await closed.close();
    const offline = createTwilioChannel({ ...settings, apiBaseUrl: url });
    const error = await sendError({ to: randomUserAddress(), body: 'x' }, offline);
    // Nothing listening: the message cannot have reached Twilio, so a retry need not ask first.
    expect(error).toMatchObject({ kind: 'channel_unavailable', retryable: true, notSent: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
    const basic = Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64');
    expect(everything(error)).not.toContain(settings.authToken);
    expect(everything(error)).not.toContain(basic);
  });

  it('maps a connection dropped after the request went out to channel_unavailable that may have been sent', async () => {
    const dropping = http.createServer((request) => {
      request.resume();
      request.on('end', () => request.socket.destroy());
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    try {
      const port = (dropping.address() as AddressInfo).port;
      const flaky = createTwilioChannel({ ...settings, apiBaseUrl: `http://127.0.0.1:${port}` });
      const error = await sendError({ to: randomUserAddress(), body: 'x' }, flaky);
      // Twilio may have taken it: the retry must ask (findSent) before sending again.
      expect(error).toMatchObject({ kind: 'channel_unavailable', retryable: true, notSent: false });
      expect(everything(error)).not.toContain(settings.authToken);
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  it('keeps at most TWILIO_MAX_SOCKETS sends in flight, on connections it keeps open between bursts', async () => {
    let inFlight = 0;
    let peak = 0;
    const sockets = new Set<unknown>();
    const slow = http.createServer((request, response) => {
      sockets.add(request.socket);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      request.resume();
      setTimeout(() => {
        inFlight -= 1;
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ sid: `SM${'0'.repeat(32)}`, status: 'queued' }));
      }, 30);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const port = (slow.address() as AddressInfo).port;
      const busy = createTwilioChannel({ ...settings, apiBaseUrl: `http://127.0.0.1:${port}` });
      const burst = () =>
        Promise.all(Array.from({ length: 50 }, () => busy.send({ to: randomUserAddress(), body: 'b' })));
      await burst();
      expect(peak).toBe(TWILIO_MAX_SOCKETS);
      await burst();
      // The second burst reused the first one's connections instead of opening new ones.
      expect(sockets.size).toBe(TWILIO_MAX_SOCKETS);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('refuses to build a client for an account SID that is not AC…', () => {
    let thrown: unknown;
    try {
      createTwilioChannel({ ...settings, accountSid: 'SK' + '0'.repeat(32) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      kind: 'config',
      message: expect.stringMatching(/must start with AC/) as string,
    });
  });
});

describe('Twilio channel with a number directory', () => {
  it('refuses to send from a removed or deactivated number (an environment number deactivated by its row too), never asking Twilio; lookups still work', async () => {
    const testDb = await createTestDatabase();
    try {
      const db = testDb.database.db;
      const numbers = createNumberDirectory({
        db,
        twilio: settings,
        meta: null,
        decrypt: (stored) => stored,
        refreshMs: 60_000,
        log: createLogger({ level: 'silent' }),
      });
      const withDirectory = createTwilioChannel(settings, undefined, numbers);
      const row = (address: string) =>
        insertBusinessNumber(db, {
          channel: 'twilio',
          address,
          name: null,
          aiConfigId: null,
          credentialsEncrypted: null,
          isActive: false,
        });
      await row('whatsapp:+14155230041');
      const envRow = await row(TEST_BUSINESS_NUMBER);
      for (const from of ['whatsapp:+14155230041', TEST_BUSINESS_NUMBER, 'whatsapp:+14155230042']) {
        const error = await sendError({ to: randomUserAddress(), from, body: 'x' }, withDirectory);
        expect(error).toMatchObject({ kind: 'config', retryable: false, notSent: true });
        expect(error.message).toBe(`no active Twilio number ${from}: it was removed or deactivated`);
      }
      // Without a from, the default (the environment's) number is the one refused.
      expect(await sendError({ to: randomUserAddress(), body: 'x' }, withDirectory)).toMatchObject({
        kind: 'config',
      });
      expect(fake.requests).toEqual([]);
      // A message sent before the deactivation can still be found after a crash.
      expect(
        await withDirectory.findSent({
          to: randomUserAddress(),
          from: TEST_BUSINESS_NUMBER,
          body: 'x',
          sentAfter: new Date(),
        }),
      ).toBeNull();
      expect(fake.requests).toHaveLength(1);

      await updateBusinessNumber(db, envRow?.id ?? '', { isActive: true });
      await numbers.refresh();
      await withDirectory.send({ to: randomUserAddress(), body: 'back again' });
      expect(fake.sent.map((m) => [m.from, m.body])).toEqual([[TEST_BUSINESS_NUMBER, 'back again']]);
    } finally {
      await testDb.close();
    }
  });
});

describe('Twilio channel findSent', () => {
  it('finds the newest message to the user with exactly that body, even while still queued', async () => {
    const to = randomUserAddress();
    const before = new Date();
    await channel.send({ to, body: 'first answer' });
    const second = await channel.send({ to, body: 'the answer' });
    await channel.send({ to, body: 'the answer, but longer' });
    await channel.send({ to: randomUserAddress(), body: 'the answer' });

    const found = await channel.findSent({ to, body: 'the answer', sentAfter: before });
    expect(found).toEqual({ providerMessageId: second.providerMessageId, status: 'queued' });

    const list = fake.requests.find((r) => r.method === 'GET')!;
    expect(list.query.get('To')).toBe(to);
    expect(list.query.get('From')).toBe(TEST_BUSINESS_NUMBER);
  });

  it('prefers the newest of two identical bodies (Twilio lists newest first; date_created has whole seconds)', async () => {
    const to = randomUserAddress();
    const before = new Date();
    await channel.send({ to, body: 'same' });
    const newer = await channel.send({ to, body: 'same' });
    const found = await channel.findSent({ to, body: 'same', sentAfter: before });
    expect(found?.providerMessageId).toBe(newer.providerMessageId);
  });

  it('returns null for a different body, another sender number, or a message older than sentAfter − 2 s', async () => {
    const to = randomUserAddress();
    const sent = await channel.send({ to, body: 'hello' });
    const at = fake.sent[0]!.at;
    expect(await channel.findSent({ to, body: 'hello!', sentAfter: new Date(at - 1000) })).toBeNull();
    expect(
      await channel.findSent({ to, from: 'whatsapp:+14155550000', body: 'hello', sentAfter: new Date(at) }),
    ).toBeNull();
    expect(await channel.findSent({ to, body: 'hello', sentAfter: new Date(at + 5000) })).toBeNull();
    // Within the clock slack it is still ours.
    expect(await channel.findSent({ to, body: 'hello', sentAfter: new Date(at + 900) })).toEqual({
      providerMessageId: sent.providerMessageId,
      status: 'queued',
    });
  });

  it('reports the status Twilio has now', async () => {
    const receiver = await startReceiver();
    try {
      const to = randomUserAddress();
      const sent = await channel.send({ to, body: 'status?', statusCallbackUrl: receiver.url });
      await fake.deliverStatus(sent.providerMessageId, 'delivered');
      const found = await channel.findSent({ to, body: 'status?', sentAfter: new Date(Date.now() - 60_000) });
      expect(found).toEqual({ providerMessageId: sent.providerMessageId, status: 'delivered' });
    } finally {
      await receiver.close();
    }
  });

  it('maps lookup failures like send failures', async () => {
    const wrong = createTwilioChannel({ ...settings, authToken: 'nope' });
    await expect(
      wrong.findSent({ to: randomUserAddress(), body: 'x', sentAfter: new Date() }),
    ).rejects.toMatchObject({
      kind: 'channel_auth',
    });
  });
});

describe('fetchTwilioAccount', () => {
  it('returns the account when the credentials work', async () => {
    expect(await fetchTwilioAccount(settings)).toEqual({
      sid: fake.accountSid,
      friendlyName: 'Fake Twilio account',
      status: 'active',
    });
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: `/2010-04-01/Accounts/${fake.accountSid}.json`,
    });
  });

  it('fails with channel_auth when they do not', async () => {
    await expect(fetchTwilioAccount({ ...settings, authToken: 'bad-token' })).rejects.toMatchObject({
      kind: 'channel_auth',
      code: '20003',
    });
  });
});

interface Receiver {
  url: string;
  received: Array<{ params: FormParams; signature: string | undefined; url: string }>;
  close(): Promise<void>;
}

/** A tiny server standing in for our status webhook. */
async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const signature = request.headers['x-twilio-signature'];
      received.push({
        params: parseForm(Buffer.concat(chunks).toString('utf8')),
        signature: typeof signature === 'string' ? signature : undefined,
        url: `http://${request.headers.host ?? ''}${request.url ?? ''}`,
      });
      response.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/whatsapp/status/?tenant=a`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

describe('fake Twilio status callbacks', () => {
  it('posts a status callback signed with the auth token exactly as Twilio signs it', async () => {
    const receiver = await startReceiver();
    try {
      const sent = await channel.send({
        to: randomUserAddress(),
        body: 'x',
        statusCallbackUrl: receiver.url,
      });
      const response = await fake.deliverStatus(sent.providerMessageId, 'failed', '63016');
      expect(response.status).toBe(200);
      const [callback] = receiver.received;
      expect(callback!.url).toBe(receiver.url);
      const check = (authToken: string, params: FormParams) =>
        verifyTwilioSignature({ authToken, url: callback!.url, params, signature: callback!.signature });
      expect(check(fake.authToken, callback!.params)).toBe(true);
      expect(check('another-token', callback!.params)).toBe(false);
      expect(check(fake.authToken, { ...callback!.params, MessageStatus: 'delivered' })).toBe(false);
      expect(parseTwilioStatus(callback!.params)).toEqual({
        providerMessageId: sent.providerMessageId,
        status: 'failed',
        errorCode: '63016',
      });
    } finally {
      await receiver.close();
    }
  });

  it('waitForSent resolves with what arrived, or rejects saying what did', async () => {
    const to = randomUserAddress();
    const waiting = fake.waitForSent(2, 5000);
    await channel.send({ to, body: 'one' });
    await channel.send({ to, body: 'two' });
    expect((await waiting).map((m) => m.body)).toEqual(['one', 'two']);
    await expect(fake.waitForSent(3, 50)).rejects.toThrow(
      /expected 3 message\(s\) within 50 ms, got 2: .*"one".*"two"/,
    );
  });
});
