/** The assembled app, over a real socket: headers on every route, and the per-IP limit in front of the webhook. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ IP_RATE_LIMIT_MAX: '5', IP_RATE_LIMIT_WINDOW_SECONDS: '60' }, ['web']);
}, 60_000);
afterAll(async () => {
  await app.stop();
});

describe('the running web role', () => {
  it('sends the security headers on health, webhook and not-found answers, and no HSTS over http', async () => {
    const responses = [
      await fetch(`${app.url}/health/`),
      await app.postSigned('/api/whatsapp/webhook/', inboundParams()),
      await fetch(`${app.url}/no/such/page`),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404]);
    for (const response of responses) {
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('limits one IP on the webhook with 429 and Retry-After, while /health/ keeps answering', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${app.url}/api/whatsapp/status/`, { method: 'POST' });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    // Five allowed in the window: the 404 of the test above (neither health nor a signed webhook is counted),
    // four here (a POST without a form body proves nothing).
    expect(statuses.slice(0, 4).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(4)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${app.url}/health/`)).status).toBe(200);
  });
});
