/**
 * Meta's webhook proofs (wire facts §5.1–§5.2). A POST is signed `X-Hub-Signature-256: sha256=<lowercase hex
 * HMAC-SHA256(app secret, raw body)>` over the bytes exactly as sent: Meta escapes non-ASCII as `\uXXXX`, so a
 * body parsed and serialised again no longer matches. The GET handshake proves the caller knows a verify token.
 */
import crypto from 'node:crypto';

const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/** The header Meta sends for `rawBody` signed with `appSecret`. */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${crypto.createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export type SignatureCheck =
  { kind: 'missing' } | { kind: 'malformed' } | { kind: 'wrong' } | { kind: 'valid'; appSecret: string };

/**
 * Which of `appSecrets` signed `rawBody`, if any. Every secret is tried, each compared in constant time, so the
 * time taken says nothing about how close a forgery came; several apps may post to one deployment.
 */
export function checkMetaSignature(
  header: string | string[] | undefined,
  rawBody: Buffer,
  appSecrets: readonly string[],
): SignatureCheck {
  if (header === undefined || header === '') return { kind: 'missing' };
  const match = typeof header === 'string' ? HEADER.exec(header.trim()) : null;
  if (!match?.[1]) return { kind: 'malformed' };
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  let matched: string | undefined;
  for (const secret of appSecrets) {
    const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
    if (crypto.timingSafeEqual(given, expected) && matched === undefined) matched = secret;
  }
  return matched === undefined ? { kind: 'wrong' } : { kind: 'valid', appSecret: matched };
}

/**
 * True when `given` equals one of `tokens`, in constant time whatever their lengths: both sides are hashed first,
 * so the comparison is always of 32 bytes and never stops at the first difference.
 */
export function verifyTokenMatches(given: string, tokens: readonly string[]): boolean {
  const digest = (value: string) => crypto.createHash('sha256').update(value, 'utf8').digest();
  const givenDigest = digest(given);
  let found = false;
  for (const token of tokens) {
    if (token === '') continue;
    if (crypto.timingSafeEqual(givenDigest, digest(token))) found = true;
  }
  return found;
}
