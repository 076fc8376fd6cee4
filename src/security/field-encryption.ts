/**
 * Encryption of secrets stored in database columns (AI provider API keys) with AES-256-GCM.
 *
 * Stored form: `v1:<keyId>:<iv>:<tag>:<ciphertext>`, parts base64. The key id (the first bytes of the key's
 * SHA-256) says which key encrypted a value, so a rotation can run while old and new keys are both known, and a
 * wrong key is reported as such instead of as corruption. `v1:<keyId>` is also authenticated (GCM associated
 * data), so a changed header is detected like a changed ciphertext.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const KEY_HELP = 'generate one with `openssl rand -base64 32` or `chatbot generate-key`';

/** A field key that is missing or malformed; names the variable, never shows the value. */
export class FieldKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldKeyError';
  }
}

/** A stored value that cannot be decrypted: altered, truncated, or encrypted with a key we do not have. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * The problem with a key's text, or null when it is 32 bytes as base64 (44 characters) or as 64 hex characters.
 * Pure, so the config schema can report it with every other problem at start.
 */
export function fieldKeyProblem(text: string): string | null {
  return decodeKey(text)
    ? null
    : `must be 32 bytes as base64 (44 characters) or 64 hex characters; ${KEY_HELP}`;
}

/** The key's bytes; throws FieldKeyError naming `variable` when the text is not a 32-byte key. */
export function parseFieldKey(text: string, variable = 'FIELD_ENCRYPTION_KEY'): Buffer {
  const key = decodeKey(text);
  if (!key) throw new FieldKeyError(`${variable}: ${fieldKeyProblem(text) ?? 'invalid'}`);
  return key;
}

function decodeKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  // Buffer.from(base64) ignores junk silently, so check the alphabet and the exact length first.
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed) || /^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(
      trimmed,
      trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64',
    );
    return bytes.length === KEY_BYTES ? bytes : null;
  }
  return null;
}

/** A fresh random key, base64, for FIELD_ENCRYPTION_KEY. */
export function generateFieldKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Short public name of a key: safe to print and to store next to what it encrypted. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export interface FieldCipher {
  /** Id of the key new values are encrypted with. */
  readonly keyId: string;
  // Function properties rather than methods: they close over their keys, so they may be passed around unbound.
  encrypt: (plaintext: string) => string;
  /** Throws DecryptionError when the value was altered or encrypted with a key this cipher does not hold. */
  decrypt: (stored: string) => string;
  /** Id of the key that encrypted `stored`, or null when it is not in our format. */
  keyIdOf: (stored: string) => string | null;
}

/**
 * Encrypts with `current`; decrypts with `current` or any of `previous` (during a key rotation both must be
 * readable). Keys are 32 raw bytes (parseFieldKey).
 */
export function createFieldCipher(current: Buffer, previous: Buffer[] = []): FieldCipher {
  const keys = new Map<string, Buffer>();
  for (const key of [current, ...previous]) {
    if (key.length !== KEY_BYTES) throw new FieldKeyError(`a field key must be ${KEY_BYTES} bytes`);
    if (!keys.has(keyIdOf(key))) keys.set(keyIdOf(key), key);
  }
  const currentId = keyIdOf(current);

  function encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${VERSION}:${currentId}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64'));
    return [VERSION, currentId, ...parts].join(':');
  }

  function decrypt(stored: string): string {
    const parsed = parse(stored);
    const key = keys.get(parsed.keyId);
    if (!key) {
      throw new DecryptionError(
        `the value was encrypted with key ${parsed.keyId}, but FIELD_ENCRYPTION_KEY is key ${currentId}` +
          (keys.size > 1
            ? ` and FIELD_ENCRYPTION_KEY_PREVIOUS is key ${[...keys.keys()].slice(1).join(', ')}`
            : '') +
          ': set the key it was encrypted with (as FIELD_ENCRYPTION_KEY_PREVIOUS during a rotation)',
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}:${parsed.keyId}`));
      decipher.setAuthTag(parsed.tag);
      return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError(
        'the encrypted value failed its integrity check: it was altered or truncated',
      );
    }
  }

  return {
    keyId: currentId,
    encrypt,
    decrypt,
    keyIdOf: (stored) => {
      try {
        return parse(stored).keyId;
      } catch {
        return null;
      }
    },
  };
}

interface Parsed {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parse(stored: string): Parsed {
  const parts = stored.split(':');
  const [version, keyId, iv, tag, ciphertext] = parts;
  if (parts.length !== 5 || version !== VERSION || !keyId || iv === undefined || tag === undefined) {
    throw new DecryptionError(`the value is not in the ${VERSION}:<key>:<iv>:<tag>:<data> format`);
  }
  if (ciphertext === undefined || ![iv, tag, ciphertext].every((part) => BASE64.test(part))) {
    throw new DecryptionError('the encrypted value is malformed (a part is not base64)');
  }
  const decoded = { keyId, iv: Buffer.from(iv, 'base64'), tag: Buffer.from(tag, 'base64') };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw new DecryptionError('the encrypted value is malformed (wrong iv or tag length)');
  }
  return { ...decoded, ciphertext: Buffer.from(ciphertext, 'base64') };
}

/**
 * A secret as it may be shown after creation: a few characters of its start and end, so an operator can tell
 * keys apart (`sk-or-…x9f2`), never enough to use it. Short secrets show less, or nothing.
 */
export function maskSecret(secret: string): string {
  const head = secret.length >= 20 ? 6 : secret.length >= 12 ? 3 : 0;
  const tail = secret.length >= 12 ? 4 : 0;
  return `${secret.slice(0, head)}…${tail > 0 ? secret.slice(-tail) : ''}`;
}

export interface FieldKeySettings {
  key: string | undefined;
  previousKey: string | undefined;
}

/** The cipher for the configured keys, or null when FIELD_ENCRYPTION_KEY is not set. */
export function fieldCipherFrom(settings: FieldKeySettings): FieldCipher | null {
  if (!settings.key) return null;
  const previous = settings.previousKey
    ? [parseFieldKey(settings.previousKey, 'FIELD_ENCRYPTION_KEY_PREVIOUS')]
    : [];
  return createFieldCipher(parseFieldKey(settings.key), previous);
}

/** The cipher, or a FieldKeyError that says what the key is for and how to make one. */
export function requireFieldCipher(
  settings: FieldKeySettings,
  purpose = 'store AI configuration API keys',
): FieldCipher {
  const cipher = fieldCipherFrom(settings);
  if (!cipher)
    throw new FieldKeyError(`FIELD_ENCRYPTION_KEY is not set; it is needed to ${purpose}: ${KEY_HELP}`);
  return cipher;
}
