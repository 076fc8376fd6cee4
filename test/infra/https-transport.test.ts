import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioChannel } from '../../src/channels/twilio/channel.js';
import { httpRequest } from '../../src/infra/http-client.js';
import { leanFetch } from '../../src/infra/lean-fetch.js';
import { startFakeTwilio } from '../fakes/twilio-server.js';
import { randomUserAddress, TEST_BUSINESS_NUMBER } from '../helpers/twilio.js';

const tls = new URL('../fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('localhost.crt', tls));
const key = readFileSync(new URL('localhost.key', tls));

let server: https.Server;
let origin: string;

beforeAll(async () => {
  server = https.createServer({ cert, key }, (request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ method: request.method, secure: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the lean transport over HTTPS', () => {
  it('talks TLS through the agent it is given (a trusted CA here)', async () => {
    const agent = new https.Agent({ keepAlive: true, ca: cert });
    try {
      const answer = await httpRequest({ url: new URL(`${origin}/v1`), method: 'POST', body: '{}', agent });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ method: 'POST', secure: true });
    } finally {
      agent.destroy();
    }
  });

  it('verifies certificates by default: an untrusted one fails as fetch fails, with the TLS code as cause', async () => {
    const error: unknown = await leanFetch(`${origin}/v1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ message: 'fetch failed', cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
  });
});

describe('the Twilio channel over HTTPS', () => {
  it("uses the SDK's own https agent, so TWILIO_CA_BUNDLE still decides which certificates are trusted", async () => {
    const fake = await startFakeTwilio();
    // TLS in front of the fake: every request forwarded as it came.
    const terminator = https.createServer({ cert, key }, (request, response) => {
      const forward = http.request(
        `${fake.url}${request.url ?? '/'}`,
        { method: request.method, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(forward);
    });
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    const apiBaseUrl = `https://127.0.0.1:${(terminator.address() as AddressInfo).port}`;
    const settings = {
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      whatsappNumber: TEST_BUSINESS_NUMBER,
      apiBaseUrl,
    };
    const previous = process.env.TWILIO_CA_BUNDLE;
    try {
      const untrusting = createTwilioChannel(settings);
      const refused: unknown = await untrusting
        .send({ to: randomUserAddress(), body: 'no' })
        .catch((e: unknown) => e);
      // Refused in the handshake: the request never left, so a retry need not ask Twilio first.
      expect(refused).toMatchObject({ kind: 'channel_unavailable', notSent: true });
      expect((refused as Error).message).toMatch(/CERT/);

      process.env.TWILIO_CA_BUNDLE = new URL('localhost.crt', tls).pathname;
      const trusting = createTwilioChannel(settings);
      const to = randomUserAddress();
      const sent = await trusting.send({ to, body: 'over TLS' });
      expect(sent.providerMessageId).toMatch(/^SM/);
      expect(fake.sent.map((m) => [m.to, m.body])).toEqual([[to, 'over TLS']]);
    } finally {
      if (previous === undefined) delete process.env.TWILIO_CA_BUNDLE;
      else process.env.TWILIO_CA_BUNDLE = previous;
      terminator.closeAllConnections();
      await new Promise((resolve) => terminator.close(resolve));
      await fake.close();
    }
  });
});
