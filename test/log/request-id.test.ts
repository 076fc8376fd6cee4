import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { captureLines, type Captured } from './capture.js';

let app: TestApp;
let logs: Captured;

beforeAll(async () => {
  logs = captureLines();
  app = await startTestApp({}, undefined, createLogger({ level: 'info', destination: logs.stream }));
});
afterAll(async () => {
  await app.stop();
});

describe('one request id from webhook to send', () => {
  it('puts the webhook request id on the webhook line, the worker lines and the send line', async () => {
    const from = 'whatsapp:+14155550777';
    app.llm.respond(() => ({ text: 'traced reply' }));
    const response = await app.postSigned(
      '/api/whatsapp/webhook/',
      inboundParams({ From: from, Body: 'trace me' }),
    );
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    const ours = await eventually('the send line', () => {
      const lines = logs.lines().filter((line) => line.requestId === requestId);
      return Promise.resolve(lines.some((line) => line.msg === 'reply sent') ? lines : undefined);
    });
    const byMessage = (msg: string) => ours.find((line) => line.msg === msg);
    expect(byMessage('inbound message accepted')).toMatchObject({ area: 'http', requestId });
    expect(byMessage('stored the reply')).toMatchObject({ area: 'pipeline', requestId });
    expect(byMessage('reply sent')).toMatchObject({ area: 'pipeline', requestId });
    expect(app.twilio.sent.filter((m) => m.to === from).map((m) => m.body)).toEqual(['traced reply']);
    // No other request's lines carry it.
    const other = await app.postSigned('/api/whatsapp/webhook/', inboundParams({ Body: 'another' }));
    expect(other.headers.get('x-request-id')).not.toBe(requestId);
  });
});
