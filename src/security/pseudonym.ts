/**
 * The pseudonym that stands for a person whose data was erased: the audit log and the webhook log keep their
 * rows (who did what, when) with this in place of the number. HMAC-SHA256 of the address under a server key, so
 * the same person always maps to the same pseudonym (an export and a later erase can be matched) while nobody
 * without the key can test a phone number against it (a bare hash of an E.164 number is reversed by trying them
 * all).
 */
import { createHmac } from 'node:crypto';
import { sessionSecretFrom } from '../admin/settings.js';
import type { Config } from '../config/load.js';

export type Pseudonymize = (address: string) => string;

/** `anon_` and 32 hex characters (128 bits of the HMAC): short enough to read, far too many to guess. */
export function pseudonymizer(secret: string): Pseudonymize {
  // A key of its own (domain separation), so a pseudonym never equals a cookie signature made from the same base.
  const key = createHmac('sha256', secret).update('whatsapp-ai-chatbot data-rights pseudonym v1').digest();
  return (address) => `anon_${createHmac('sha256', key).update(address).digest('hex').slice(0, 32)}`;
}

/**
 * The key's base, stable across the rotations of other secrets: PSEUDONYM_KEY, else FIELD_ENCRYPTION_KEY. Both go
 * through the same step the first release applied to FIELD_ENCRYPTION_KEY (then reached through the admin cookie's
 * secret), so a deployment that had it and no ADMIN_SESSION_SECRET keeps every pseudonym; and an operator about to
 * rotate FIELD_ENCRYPTION_KEY sets PSEUDONYM_KEY to its current value first, keeping them too. Neither set (the
 * zero-setup start, a server that never stores a secret): the first release's derivation (ADMIN_SESSION_SECRET,
 * TWILIO_AUTH_TOKEN, the database's URL or PGlite directory), with a warning at boot in production.
 */
function pseudonymBase(config: Config): string {
  const key = config.pseudonymKey ?? config.fieldEncryption.key;
  if (key === undefined) return sessionSecretFrom(config);
  return createHmac('sha256', key).update('whatsapp-ai-chatbot admin session cookie v1').digest('base64url');
}

/** The pseudonyms written from now on. */
export function pseudonymizerFrom(config: Config): Pseudonymize {
  return pseudonymizer(pseudonymBase(config));
}

/**
 * Every pseudonym a person may have been given: the current one first, then the first release's (keyed by the admin
 * cookie's secret) when it differs, so audit rows written before PSEUDONYM_KEY was set are still found by an export.
 */
export function knownPseudonymsFrom(config: Config): (address: string) => string[] {
  const current = pseudonymizerFrom(config);
  const base = pseudonymBase(config);
  const legacyBase = sessionSecretFrom(config);
  if (legacyBase === base) return (address) => [current(address)];
  const legacy = pseudonymizer(legacyBase);
  return (address) => [current(address), legacy(address)];
}
