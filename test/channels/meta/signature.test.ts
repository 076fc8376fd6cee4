import { describe, expect, it } from 'vitest';
import {
  checkMetaSignature,
  metaSignature,
  verifyTokenMatches,
} from '../../../src/channels/meta/signature.js';
import { metaJson, signMetaBody, TEST_APP_SECRET } from '../../helpers/meta.js';

const body = Buffer.from(metaJson({ object: 'whatsapp_business_account', text: 'äöå' }));

describe('X-Hub-Signature-256', () => {
  it('computes what the test helper (node HMAC over the bytes) computes', () => {
    expect(metaSignature(TEST_APP_SECRET, body)).toBe(signMetaBody(TEST_APP_SECRET, body));
  });

  it('verifies a signature over the escaped bytes, and not the decoded re-serialised body', () => {
    const escaped = body.toString('utf8');
    expect(escaped).toContain('\\u00e4\\u00f6\\u00e5');
    const header = signMetaBody(TEST_APP_SECRET, body);
    expect(checkMetaSignature(header, body, [TEST_APP_SECRET])).toEqual({
      kind: 'valid',
      appSecret: TEST_APP_SECRET,
    });
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(escaped)));
    expect(reserialised.equals(body)).toBe(false);
    expect(checkMetaSignature(header, reserialised, [TEST_APP_SECRET]).kind).toBe('wrong');
  });

  it('names which of several app secrets signed the body', () => {
    const header = signMetaBody('second-app-secret', body);
    expect(checkMetaSignature(header, body, [TEST_APP_SECRET, 'second-app-secret'])).toEqual({
      kind: 'valid',
      appSecret: 'second-app-secret',
    });
  });

  it('accepts uppercase hex digits (the bytes are what count)', () => {
    const hex = signMetaBody(TEST_APP_SECRET, body).slice('sha256='.length);
    expect(checkMetaSignature(`sha256=${hex.toUpperCase()}`, body, [TEST_APP_SECRET]).kind).toBe('valid');
  });

  it.each([
    ['missing', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['legacy sha1', 'sha1=0123456789abcdef0123456789abcdef01234567', 'malformed'],
    ['short hex', 'sha256=abc', 'malformed'],
    ['not hex', `sha256=${'z'.repeat(64)}`, 'malformed'],
    ['two headers', ['sha256=' + 'a'.repeat(64), 'sha256=' + 'b'.repeat(64)], 'malformed'],
    ['wrong secret', signMetaBody('another-secret', body), 'wrong'],
  ] as const)('%s → %s', (_name, header, kind) => {
    expect(checkMetaSignature(header as string | string[] | undefined, body, [TEST_APP_SECRET]).kind).toBe(
      kind,
    );
  });

  it('verifies nothing when no app secret is configured', () => {
    expect(checkMetaSignature(signMetaBody(TEST_APP_SECRET, body), body, []).kind).toBe('wrong');
  });
});

describe('hub.verify_token', () => {
  it('matches any of the tokens, whatever their lengths', () => {
    expect(verifyTokenMatches('b-token', ['a', 'b-token'])).toBe(true);
    expect(verifyTokenMatches('b-token', ['a', 'b-token-longer'])).toBe(false);
    expect(verifyTokenMatches('', [''])).toBe(false);
    expect(verifyTokenMatches('x', [])).toBe(false);
  });
});
