/**
 * A second look at a stored webhook payload before it is shown. Headers were redacted when the log was written
 * (http/form.ts headersForLog); this catches whatever slipped through: older rows, new header names, a secret
 * that ended up in a body field. Keys that name a secret lose their value; every string is run through the
 * configured-secret redactor.
 */
import { REDACTED, type Redact } from '../errors/redact.js';

const SECRET_KEY =
  /token|secret|password|passwd|api[_-]?key|authorization|cookie|signature|credential|^x-twilio-signature$/i;

export function redactPayload(value: unknown, redact: Redact, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactPayload(item, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactPayload(item, redact, depth + 1);
  }
  return out;
}
