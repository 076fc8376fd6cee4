/**
 * A server without Twilio settings (the zero-setup mode, or a deployment using only other channels) has no
 * Twilio webhook: a stray or hostile POST gets 404 and a plain warning, not a 500 with a CRITICAL
 * configuration alert per request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

let app: TestApp;
let capture: CapturedLog;

beforeAll(async () => {
  capture = captureLog('trace');
  // Empty means unset, as in a .env file.
  app = await startTestApp(
    { TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '', TWILIO_WHATSAPP_NUMBER: '', TWILIO_API_BASE_URL: '' },
    ['web'],
    capture.log,
  );
}, 60_000);
afterAll(async () => {
  await app.stop();
});

describe('the Twilio webhook on a server without Twilio', () => {
  it('answers 404 to a POST, logs no error, and still answers the GET probe', async () => {
    expect(app.config.twilio).toBeNull();
    const response = await app.postSigned('/api/whatsapp/webhook/', inboundParams({}));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
    expect(capture.lines().filter((line) => line.level >= 50)).toEqual([]);
    expect(capture.text()).not.toContain('CRITICAL');
    expect((await fetch(`${app.url}/api/whatsapp/webhook/`)).status).toBe(200);
  });
});
