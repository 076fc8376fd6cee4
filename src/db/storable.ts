/**
 * PostgreSQL refuses U+0000 in text and jsonb ("unsupported Unicode escape sequence"), and jsonb refuses a lone
 * UTF-16 surrogate. Both can arrive from the outside (a WhatsApp user's profile name, an extra form param), and
 * one such character must not turn an accepted message into a 5xx. Everything stored from a request goes
 * through here: the character is dropped (NUL) or replaced by U+FFFD (lone surrogate), nothing else changes.
 */
export function storableText(text: string): string {
  return (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text).toWellFormed();
}

/** The same for every string, key and nested value of a JSON-shaped value. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => storableJson(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) result[storableText(key)] = storableJson(item);
  return result as T;
}
