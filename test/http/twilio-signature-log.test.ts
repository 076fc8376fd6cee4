/**
 * A refused Twilio signature is one log line, with what an operator needs to tell a forgery from a
 * misconfigured proxy (client IP, the URL the signature was checked against, whether one was sent, the request
 * id): the route logs it, the server's error handler does not log it a second time. The app is the real HTTP
 * stack (server, error handler, webhook routes) with the audit-log writer reduced to a list.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { createServer } from '../../src/http/server.js';
import { registerTwilioWebhook } from '../../src/http/twilio-webhook.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { formBody, inboundParams, signParams, TEST_AUTH_TOKEN } from '../helpers/twilio.js';
import { noNumberRows } from '../helpers/pipeline-deps.js';

type Deps = Parameters<typeof registerTwilioWebhook>[1];

const PUBLIC_BASE_URL = 'https://bot.example.test';
const WEBHOOK = '/api/whatsapp/webhook/';
const WARN = 40;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function build(capture: CapturedLog) {
  const audit: Array<{ responseStatus: number }> = [];
  // The audit log's writer, reduced to what the route hands it.
  const auditLog = {
    write: (row: { responseStatus: number }) => void audit.push(row),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const app = createServer({ log: capture.log, bodyLimitBytes: 64 * 1024, trustProxy: false });
  registerTwilioWebhook(
    app,
    // No number beyond the environment's: every signature is checked with TWILIO_AUTH_TOKEN.
    { auditLog, log: capture.log, numbers: noNumberRows } as unknown as Deps,
    {
      twilio: {
        accountSid: 'AC' + '0'.repeat(32),
        authToken: TEST_AUTH_TOKEN,
        whatsappNumber: 'whatsapp:+14155238886',
        apiBaseUrl: undefined,
      },
      skipSignature: false,
      publicBaseUrl: PUBLIC_BASE_URL,
      trustProxy: false,
    },
  );
  app.post('/refused', () => {
    throw new AppError('invalid_input', 'not what this route takes');
  });
  apps.push(app);
  await app.ready();
  return { app, audit };
}

/** Every line logged while handling the request with this id. */
const linesOf = (capture: CapturedLog, requestId: string) =>
  capture.lines().filter((line) => line.requestId === requestId);

describe('a refused Twilio webhook signature', () => {
  it.each([
    ['a wrong signature', 'bm90IGEgc2lnbmF0dXJl', true],
    ['no signature', undefined, false],
  ] as const)(
    'with %s is logged once, with ip, url, hasSignature and requestId',
    async (_, signature, has) => {
      const capture = captureLog();
      const { app, audit } = await build(capture);
      const response = await app.inject({
        method: 'POST',
        url: WEBHOOK,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-request-id': `forged-${String(has)}`,
          ...(signature ? { 'x-twilio-signature': signature } : {}),
        },
        payload: formBody(inboundParams({ Body: 'forged' })),
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: 'bad_signature' });

      const lines = linesOf(capture, `forged-${String(has)}`);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: WARN,
        kind: 'bad_signature',
        ip: '127.0.0.1',
        url: `${PUBLIC_BASE_URL}${WEBHOOK}`,
        hasSignature: has,
        requestId: `forged-${String(has)}`,
      });
      expect(lines[0]!.msg).toContain('invalid Twilio signature');
      // Nothing about it elsewhere either (a line without the request id).
      expect(capture.lines().filter((line) => JSON.stringify(line).includes('signature'))).toHaveLength(1);
      // The audit log still records the refusal.
      expect(audit.map((row) => row.responseStatus)).toEqual([403]);
    },
  );

  it('is one line per request, while other refused requests are still logged by the error handler', async () => {
    const capture = captureLog();
    const { app } = await build(capture);
    const params = inboundParams();
    for (let i = 0; i < 3; i++) {
      const response = await app.inject({
        method: 'POST',
        url: WEBHOOK,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          // Signed for another URL: the signature is well-formed, but not for this request.
          'x-twilio-signature': signParams(
            TEST_AUTH_TOKEN,
            `https://elsewhere.example.test${WEBHOOK}`,
            params,
          ),
        },
        payload: formBody(params),
      });
      expect(response.statusCode).toBe(403);
    }
    expect(capture.lines().filter((line) => line.kind === 'bad_signature')).toHaveLength(3);
    expect(capture.lines().filter((line) => line.level >= WARN)).toHaveLength(3);

    const refused = await app.inject({
      method: 'POST',
      url: '/refused',
      headers: { 'x-request-id': 'refused' },
    });
    expect(refused.statusCode).toBe(400);
    expect(linesOf(capture, 'refused')).toEqual([
      expect.objectContaining({ level: WARN, kind: 'invalid_input', msg: 'not what this route takes' }),
    ]);
  });
});
