import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createFieldCipher,
  DecryptionError,
  FieldKeyError,
  fieldCipherFrom,
  fieldKeyProblem,
  generateFieldKey,
  keyIdOf,
  maskSecret,
  parseFieldKey,
  requireFieldCipher,
} from '../../src/security/field-encryption.js';

const key = () => randomBytes(32);
const SECRET = 'sk-or-v1-0123456789abcdef0123456789abcdefx9f2';

/** Flip one bit of one base64 part of `v1:<keyId>:<iv>:<tag>:<ciphertext>`. */
function tamper(stored: string, part: 2 | 3 | 4): string {
  const parts = stored.split(':');
  const bytes = Buffer.from(parts[part]!, 'base64');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64');
  return parts.join(':');
}

describe('field encryption (AES-256-GCM)', () => {
  it('round-trips a secret, in the versioned v1:<keyId>:<iv>:<tag>:<data> form, without the plaintext', () => {
    const cipher = createFieldCipher(key());
    const stored = cipher.encrypt(SECRET);
    expect(stored).toMatch(/^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(stored.split(':')[1]).toBe(cipher.keyId);
    expect(stored).not.toContain('sk-or');
    expect(cipher.decrypt(stored)).toBe(SECRET);
  });

  it('uses a fresh IV each time, so equal secrets never look equal', () => {
    const cipher = createFieldCipher(key());
    expect(cipher.encrypt(SECRET)).not.toBe(cipher.encrypt(SECRET));
  });

  it('round-trips unicode and the empty string', () => {
    const cipher = createFieldCipher(key());
    for (const value of ['', 'ключ-🔑-鍵']) expect(cipher.decrypt(cipher.encrypt(value))).toBe(value);
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ] as const)('detects a flipped bit in the %s', (_name, part) => {
    const cipher = createFieldCipher(key());
    const stored = tamper(cipher.encrypt(SECRET), part);
    expect(() => cipher.decrypt(stored)).toThrow(DecryptionError);
    expect(() => cipher.decrypt(stored)).toThrow(/integrity check/);
  });

  it('detects a truncated ciphertext and a value that is not in the format', () => {
    const cipher = createFieldCipher(key());
    const stored = cipher.encrypt(SECRET);
    expect(() => cipher.decrypt(stored.slice(0, -4))).toThrow(DecryptionError);
    expect(() => cipher.decrypt('plain-text-key')).toThrow(/format/);
    expect(() => cipher.decrypt(stored.replace(/^v1:/, 'v9:'))).toThrow(/format/);
  });

  it('refuses a value encrypted with another key, naming both key ids', () => {
    const writer = createFieldCipher(key());
    const reader = createFieldCipher(key());
    const stored = writer.encrypt(SECRET);
    expect(() => reader.decrypt(stored)).toThrow(DecryptionError);
    expect(() => reader.decrypt(stored)).toThrow(new RegExp(`key ${writer.keyId}.*key ${reader.keyId}`));
  });

  it('detects a key id swapped in the header (the header is authenticated)', () => {
    const a = key();
    const b = key();
    const cipher = createFieldCipher(a, [b]);
    const stored = cipher.encrypt(SECRET).replace(`:${keyIdOf(a)}:`, `:${keyIdOf(b)}:`);
    expect(() => cipher.decrypt(stored)).toThrow(/integrity check/);
  });

  it('reads values of the previous key during a rotation and writes with the current one', () => {
    const oldKey = key();
    const newKey = key();
    const stored = createFieldCipher(oldKey).encrypt(SECRET);
    const rotating = createFieldCipher(newKey, [oldKey]);
    expect(rotating.decrypt(stored)).toBe(SECRET);
    expect(rotating.keyIdOf(rotating.encrypt(SECRET))).toBe(keyIdOf(newKey));
    expect(rotating.keyIdOf(stored)).toBe(keyIdOf(oldKey));
  });
});

describe('field keys', () => {
  it('accepts 32 bytes as base64 (openssl rand -base64 32), base64url and 64 hex characters', () => {
    const bytes = key();
    expect(parseFieldKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseFieldKey(bytes.toString('base64url'))).toEqual(bytes);
    expect(parseFieldKey(bytes.toString('hex'))).toEqual(bytes);
    expect(parseFieldKey(generateFieldKey())).toHaveLength(32);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(48).toString('base64')],
    ['63 hex characters', randomBytes(32).toString('hex').slice(1)],
    ['not base64', '!'.repeat(44)],
    ['a passphrase', 'correct horse battery staple'],
  ])('rejects a malformed key (%s) with a message that says how to make one', (_name, text) => {
    expect(fieldKeyProblem(text)).toMatch(/32 bytes.*openssl rand -base64 32.*chatbot generate-key/);
    expect(() => parseFieldKey(text)).toThrow(FieldKeyError);
    expect(() => parseFieldKey(text)).toThrow(/^FIELD_ENCRYPTION_KEY: /);
    expect(() => parseFieldKey(text)).not.toThrow(text);
  });

  it('builds no cipher without a key, and a clear error where one is required', () => {
    expect(fieldCipherFrom({ key: undefined, previousKey: undefined })).toBeNull();
    expect(() => requireFieldCipher({ key: undefined, previousKey: undefined })).toThrow(
      /FIELD_ENCRYPTION_KEY is not set.*chatbot generate-key/,
    );
    const current = generateFieldKey();
    expect(fieldCipherFrom({ key: current, previousKey: undefined })?.keyId).toBe(
      keyIdOf(parseFieldKey(current)),
    );
    expect(() => fieldCipherFrom({ key: current, previousKey: 'nope' })).toThrow(
      /FIELD_ENCRYPTION_KEY_PREVIOUS/,
    );
  });
});

describe('maskSecret', () => {
  it.each([
    ['sk-or-v1-0123456789abcdefx9f2', 'sk-or-…x9f2'],
    ['sk-ant-api03-abcdefgh', 'sk-ant…efgh'],
    ['abcdefghijkl', 'abc…ijkl'],
    ['short-key', '…'],
  ])('masks %s as %s, never revealing most of it', (secret, masked) => {
    expect(maskSecret(secret)).toBe(masked);
  });
});
