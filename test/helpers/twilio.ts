/**
 * Realistic Twilio WhatsApp webhook payloads, signed with the SDK's own code so our verifier is checked against
 * the reference rather than against itself.
 */
import crypto from 'node:crypto';
import twilio from 'twilio';

export type FormParams = Record<string, string | string[]>;

export const TEST_ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const TEST_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
export const TEST_BUSINESS_NUMBER = 'whatsapp:+14155238886';

export function randomSid(prefix: string): string {
  return prefix + crypto.randomBytes(16).toString('hex');
}

/** A user's random test number in the fictional 555 range. */
export function randomUserAddress(): string {
  return `whatsapp:+1415555${String(crypto.randomInt(0, 10_000)).padStart(4, '0')}`;
}

/**
 * An inbound WhatsApp text message as Twilio posts it; overrides replace or add params. (For repeated keys,
 * spread the result into a FormParams.)
 */
export function inboundParams(overrides: Record<string, string> = {}): Record<string, string> {
  const sid = randomSid('SM');
  const from = overrides.From ?? randomUserAddress();
  const waId = from.replace(/^whatsapp:\+?/, '');
  return {
    SmsMessageSid: sid,
    NumMedia: '0',
    ProfileName: 'Test User',
    MessageType: 'text',
    SmsSid: sid,
    WaId: waId,
    SmsStatus: 'received',
    Body: 'Hello there',
    To: TEST_BUSINESS_NUMBER,
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: sid,
    AccountSid: TEST_ACCOUNT_SID,
    From: from,
    ApiVersion: '2010-04-01',
    ...overrides,
  };
}

/** X-Twilio-Signature for a POST of `params` to `url`, computed by the twilio SDK. */
export function signParams(authToken: string, url: string, params: FormParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** application/x-www-form-urlencoded body; an array value becomes a repeated key. */
export function formBody(params: FormParams): string {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of typeof value === 'string' ? [value] : value) body.append(key, v);
  }
  return body.toString();
}

/** Parse a form body back into params, repeated keys becoming arrays (as a body parser would). */
export function parseForm(body: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = typeof existing === 'string' ? [existing, value] : [...existing, value];
  }
  return params;
}
