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
 * Keyed by the server secret the admin cookie uses (ADMIN_SESSION_SECRET, else derived from FIELD_ENCRYPTION_KEY,
 * TWILIO_AUTH_TOKEN or the database URL): every deployment has one, and no new variable is needed.
 */
export function pseudonymizerFrom(config: Config): Pseudonymize {
  return pseudonymizer(sessionSecretFrom(config));
}
