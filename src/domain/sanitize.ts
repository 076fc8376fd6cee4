/**
 * Pure text and address checks for what arrives from the outside world. No I/O, no channel knowledge beyond the
 * shape of addresses.
 */

// C0 controls except \t (09) and \n (0A), DEL, and the C1 block. \r is handled first (line endings).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * Remove control characters that have no business in a chat message (they can corrupt logs, terminals and
 * prompts), keeping newlines, tabs and every printable character including emoji. Line endings become \n.
 */
export function stripControlChars(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL_CHARS, '');
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** `+` then 7–15 digits, the first not 0 (ITU-T E.164 as Twilio and Meta accept it). */
export function isE164(phone: string): boolean {
  return E164.test(phone);
}

// WhatsApp's business-scoped user id (BSUID), as Twilio writes it: a two-letter country code, a dot, `ENT.` for a
// parent id, then 1–128 letters and digits (wire facts §1.9). Nothing else, so it cannot smuggle separators or
// whitespace into keys and logs.
const BUSINESS_SCOPED_ID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;
const WHATSAPP_PREFIX = 'whatsapp:';

/** `CO.4480491918930694` or `US.ENT.…`: a business-scoped user id, never given a `+`. */
export function isBusinessScopedId(id: string): boolean {
  return BUSINESS_SCOPED_ID.test(id);
}

/** `whatsapp:` followed by a business-scoped user id (Twilio's From/To/ExternalUserId for such users). */
export function isBusinessScopedAddress(address: string): boolean {
  return address.startsWith(WHATSAPP_PREFIX) && isBusinessScopedId(address.slice(WHATSAPP_PREFIX.length));
}

/** `whatsapp:+E164`, or `whatsapp:` followed by a business-scoped user id. */
export function isChannelAddress(address: string): boolean {
  if (!address.startsWith(WHATSAPP_PREFIX)) return false;
  const rest = address.slice(WHATSAPP_PREFIX.length);
  return rest.startsWith('+') ? isE164(rest) : isBusinessScopedId(rest);
}

/**
 * A recipient as an operator or an integration writes it, as the channel address we store and send to:
 * `whatsapp:+E164` or `whatsapp:CC.<id>` as they are; a bare `+E164` or scoped id gets the `whatsapp:` prefix
 * (numbers kept in a CRM rarely carry it). Surrounding spaces are ignored. Null when it is neither.
 */
export function recipientAddress(input: string): string | null {
  const trimmed = input.trim();
  const address = trimmed.startsWith(WHATSAPP_PREFIX) ? trimmed : `${WHATSAPP_PREFIX}${trimmed}`;
  return isChannelAddress(address) ? address : null;
}

/**
 * A person's address on Meta, as the Meta channel keys and sends it: `+<digits>` for a phone number (a bare
 * number or a `whatsapp:` prefix are accepted), or a business-scoped user id (`US.13491208655302741918`,
 * `US.ENT.…`) as it is; null for anything else.
 */
export function metaRecipientAddress(input: string): string | null {
  const bare = input.trim().replace(/^whatsapp:/, '');
  if (/^\+?[1-9]\d{6,14}$/.test(bare)) return bare.startsWith('+') ? bare : `+${bare}`;
  if (/^[A-Z]{2}(\.[A-Z]{2,8})?\.[A-Za-z0-9]{1,128}$/.test(bare)) return bare;
  return null;
}

/** Length in Unicode code points, so an emoji counts as one character, as a user would count it. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** At most `max` code points; never cuts a surrogate pair in half. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let result = '';
  let count = 0;
  for (const char of text) {
    if (count === max) break;
    result += char;
    count += 1;
  }
  return result;
}
