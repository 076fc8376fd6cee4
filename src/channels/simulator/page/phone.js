/** The same check as the server's (src/domain/sanitize.ts isE164), so the page can say what is wrong at once. */
const FORMATTING = /[\s\-.()]/g;
const E164 = /^\+[1-9]\d{6,14}$/;

/** `+E164` from what a person typed ("+1 (415) 555-0100" is fine), or null. */
export function normalizePhone(text) {
  const phone = text.replace(FORMATTING, '');
  return E164.test(phone) ? phone : null;
}
