import { describe, it, expect } from 'vitest';
import twilio from 'twilio';
import {
  computeTwilioSignature,
  publicRequestUrl,
  verifyTwilioSignature,
  type SignedParams,
} from '../../../src/channels/twilio/signature.js';
import { inboundParams, signParams, TEST_AUTH_TOKEN } from '../../helpers/twilio.js';

const token = TEST_AUTH_TOKEN;
const webhookUrl = 'https://bot.example.com/api/whatsapp/webhook/';

const paramCases: Array<[string, SignedParams]> = [
  ['a realistic inbound message', inboundParams()],
  ['no params at all', {}],
  ['empty values', { Body: '', MediaUrl0: '', NumMedia: '0' }],
  ['unicode and emoji values', { Body: 'Olá 👋🏽 مرحبا 你好 \u00e9\u0301', ProfileName: 'Zoë' }],
  ['characters that URL encoding changes', { Body: 'a+b c&d=e%20f\'g"h<>#?/', Label: '100% sure' }],
  ['newlines and tabs', { Body: 'line 1\r\nline 2\n\tindented' }],
  [
    'repeated key with distinct values',
    { MediaUrl0: ['https://b.example/2', 'https://a.example/1'], Body: 'x' },
  ],
  ['repeated key with duplicate values (signed once each)', { Tag: ['b', 'a', 'b', 'a'], Body: 'x' }],
  ['repeated key with an empty value', { Tag: ['', 'z'] }],
  ['empty array', { Tag: [], Body: 'x' }],
  ['keys that sort by code unit (upper before lower)', { b: '1', B: '2', a: '3', A: '4', _: '5', '0': '6' }],
];

const urlCases: Array<[string, string]> = [
  ['plain https URL', webhookUrl],
  ['query string', 'https://bot.example.com/api/whatsapp/webhook/?tenant=a&x=1'],
  ['explicit default port', 'https://bot.example.com:443/api/whatsapp/webhook/'],
  ['explicit non-default port', 'http://127.0.0.1:8080/api/whatsapp/webhook/?a=b'],
  ['escaped characters in the query', "https://bot.example.com/hook?name=O'Brien%20x&empty="],
  ['IPv6 literal with a port', 'http://[::1]:3000/hook'],
];

describe('computeTwilioSignature agrees with the twilio SDK', () => {
  for (const [urlName, url] of urlCases) {
    it.each(paramCases)(`${urlName}: %s`, (_name, params) => {
      const ours = computeTwilioSignature(token, url, params);
      expect(ours).toBe(twilio.getExpectedTwilioSignature(token, url, params));
      expect(ours).toMatch(/^[A-Za-z0-9+/]{27}=$/); // base64 of a 20-byte SHA-1 HMAC
    });
  }

  it('depends on the auth token, the URL and every param', () => {
    const params = inboundParams();
    const base = computeTwilioSignature(token, webhookUrl, params);
    expect(computeTwilioSignature('other-token', webhookUrl, params)).not.toBe(base);
    expect(computeTwilioSignature(token, webhookUrl + '?x=1', params)).not.toBe(base);
    expect(computeTwilioSignature(token, webhookUrl, { ...params, Unknown: '' })).not.toBe(base);
  });
});

describe('verifyTwilioSignature', () => {
  it.each(paramCases)('accepts the SDK signature for %s', (_name, params) => {
    const signature = signParams(token, webhookUrl, params);
    expect(verifyTwilioSignature({ authToken: token, url: webhookUrl, params, signature })).toBe(true);
  });

  // Twilio signs whichever URL form it was configured with; the SDK tolerates a default port either way.
  const portCases: Array<[string, string, string]> = [
    [
      'signed without port, received with :443',
      webhookUrl,
      'https://bot.example.com:443/api/whatsapp/webhook/',
    ],
    [
      'signed with :443, received without port',
      'https://bot.example.com:443/api/whatsapp/webhook/',
      webhookUrl,
    ],
    [
      'signed without port, received with :80 (http)',
      'http://bot.example.com/hook?a=1',
      'http://bot.example.com:80/hook?a=1',
    ],
    [
      'signed with :80, received without port (http)',
      'http://bot.example.com:80/hook',
      'http://bot.example.com/hook',
    ],
    [
      'signed over the normalised query',
      'https://bot.example.com/hook?n=O%27Brien',
      "https://bot.example.com/hook?n=O'Brien",
    ],
    [
      'signed over an encoded space, received raw',
      'https://bot.example.com/hook?n=a%20b',
      'https://bot.example.com/hook?n=a b',
    ],
    [
      'signed over a legacy-escaped query',
      'https://bot.example.com/hook?n=a%2Fb',
      'https://bot.example.com/hook?n=a/b',
    ],
  ];
  it.each(portCases)('%s: agrees with the SDK', (_name, signedUrl, receivedUrl) => {
    const params = inboundParams();
    const signature = signParams(token, signedUrl, params);
    const sdk = twilio.validateRequest(token, signature, receivedUrl, params);
    expect(sdk).toBe(true);
    expect(verifyTwilioSignature({ authToken: token, url: receivedUrl, params, signature })).toBe(sdk);
  });

  it('rejects a signature for a different (non-default) port, as the SDK does', () => {
    const params = inboundParams();
    const signature = signParams(token, 'https://bot.example.com:8443/hook', params);
    const url = 'https://bot.example.com/hook';
    expect(twilio.validateRequest(token, signature, url, params)).toBe(false);
    expect(verifyTwilioSignature({ authToken: token, url, params, signature })).toBe(false);
  });

  it('rejects a missing, empty, garbage or truncated signature', () => {
    const params = inboundParams();
    const good = signParams(token, webhookUrl, params);
    for (const signature of [
      undefined,
      '',
      'not-a-signature',
      good.slice(0, -2),
      good + 'A',
      good.toLowerCase(),
    ]) {
      expect(verifyTwilioSignature({ authToken: token, url: webhookUrl, params, signature })).toBe(false);
    }
  });

  it('rejects a signature made with another auth token', () => {
    const params = inboundParams();
    const signature = signParams('someone-elses-token', webhookUrl, params);
    expect(verifyTwilioSignature({ authToken: token, url: webhookUrl, params, signature })).toBe(false);
  });

  it('rejects a tampered, added or removed param', () => {
    const params = inboundParams({ Body: 'pay 10' });
    const signature = signParams(token, webhookUrl, params);
    const { ProfileName: _dropped, ...withoutProfile } = params;
    const tampered: SignedParams[] = [
      { ...params, Body: 'pay 1000' },
      { ...params, From: 'whatsapp:+14155550199' },
      { ...params, Extra: 'x' },
      withoutProfile,
      { ...params, Body: ['pay 10', 'pay 1000'] },
    ];
    for (const forged of tampered) {
      expect(verifyTwilioSignature({ authToken: token, url: webhookUrl, params: forged, signature })).toBe(
        false,
      );
      expect(twilio.validateRequest(token, signature, webhookUrl, forged)).toBe(false);
    }
  });

  it('rejects a signature for another URL or query string', () => {
    const params = inboundParams();
    const signature = signParams(token, webhookUrl, params);
    for (const url of [
      webhookUrl + '?admin=1',
      'https://evil.example.com/api/whatsapp/webhook/',
      'http://bot.example.com/api/whatsapp/webhook/',
    ]) {
      expect(verifyTwilioSignature({ authToken: token, url, params, signature })).toBe(false);
    }
  });

  it('returns false instead of throwing on a URL that cannot be parsed', () => {
    const params = inboundParams();
    expect(verifyTwilioSignature({ authToken: token, url: 'not a url', params, signature: 'x' })).toBe(false);
  });
});

describe('publicRequestUrl', () => {
  const received = {
    protocol: 'http',
    host: '127.0.0.1:3000',
    headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'bot.example.com' },
    originalUrl: '/api/whatsapp/webhook/?tenant=a%20b',
  };

  it('uses the configured public base URL, keeping the raw path and query', () => {
    const url = publicRequestUrl({
      ...received,
      publicBaseUrl: 'https://public.example.com',
      trustProxy: true,
    });
    expect(url).toBe('https://public.example.com/api/whatsapp/webhook/?tenant=a%20b');
  });

  it('joins a public base URL that has a path prefix or a trailing slash', () => {
    expect(
      publicRequestUrl({ ...received, publicBaseUrl: 'https://public.example.com/bot/', trustProxy: false }),
    ).toBe('https://public.example.com/bot/api/whatsapp/webhook/?tenant=a%20b');
  });

  it('uses X-Forwarded-Proto/Host only when the proxy is trusted', () => {
    expect(publicRequestUrl({ ...received, publicBaseUrl: undefined, trustProxy: true })).toBe(
      'https://bot.example.com/api/whatsapp/webhook/?tenant=a%20b',
    );
    expect(publicRequestUrl({ ...received, publicBaseUrl: undefined, trustProxy: false })).toBe(
      'http://127.0.0.1:3000/api/whatsapp/webhook/?tenant=a%20b',
    );
  });

  it('takes the first hop of a proxy chain and falls back per header', () => {
    const url = publicRequestUrl({
      ...received,
      headers: { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': ['edge.example.com, inner:8080'] },
      publicBaseUrl: undefined,
      trustProxy: true,
    });
    expect(url).toBe('https://edge.example.com/api/whatsapp/webhook/?tenant=a%20b');
    const onlyProto = publicRequestUrl({
      ...received,
      headers: { 'x-forwarded-proto': 'https' },
      publicBaseUrl: undefined,
      trustProxy: true,
    });
    expect(onlyProto).toBe('https://127.0.0.1:3000/api/whatsapp/webhook/?tenant=a%20b');
  });

  it('rebuilds the URL Twilio signed: a request through a proxy verifies only with the rebuilt URL', () => {
    const params = inboundParams();
    const signature = signParams(token, 'https://bot.example.com/api/whatsapp/webhook/?tenant=a%20b', params);
    const behindProxy = publicRequestUrl({ ...received, publicBaseUrl: undefined, trustProxy: true });
    const naive = publicRequestUrl({ ...received, publicBaseUrl: undefined, trustProxy: false });
    expect(verifyTwilioSignature({ authToken: token, url: behindProxy, params, signature })).toBe(true);
    expect(verifyTwilioSignature({ authToken: token, url: naive, params, signature })).toBe(false);
  });
});
