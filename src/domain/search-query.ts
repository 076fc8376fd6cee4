/**
 * A full-text query for PostgreSQL's `to_tsquery('simple', …)` built from what an operator typed: every word of
 * three or more characters becomes a prefix term (`word:*`), shorter ones match whole, and all must match. Only letters and digits reach the query, so no input can
 * inject tsquery syntax (`|`, `!`, `(`, `:`) or make to_tsquery fail.
 */

/** At most this many words are searched: a pasted paragraph must not become a huge query. */
export const MAX_SEARCH_TERMS = 8;

/** Words shorter than this are matched as whole words, not as prefixes. */
export const MIN_PREFIX_LENGTH = 3;

/** `'hel:* & wor:*'` for "Hel, wor!"; null when the text has no letter or digit. */
export function prefixTsQuery(text: string): string | null {
  // The 'simple' parser splits words the same way: on everything that is not a letter or a digit.
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)].slice(0, MAX_SEARCH_TERMS);
  // A one- or two-character prefix matches a large part of every index ("a:*"): short words match whole only.
  return unique.length === 0
    ? null
    : unique.map((word) => (word.length >= MIN_PREFIX_LENGTH ? `${word}:*` : word)).join(' & ');
}
