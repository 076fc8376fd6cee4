/**
 * HANDOFF_KEYWORDS matching: whole words, any case, accents ignored ("Humano", "HUMANO" and "humanó" all match
 * `humano`; "humanity" does not match `human`). A keyword of several words ("real person") matches as a phrase:
 * the same words, consecutive, whatever punctuation or spacing stands between them.
 */

/** Lower-case words without accents: NFD splits "ó" into "o" + a combining mark, which is dropped. */
export function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** A matcher for the configured keywords: the first keyword the text contains, or null. */
export function handoffKeywordMatcher(keywords: readonly string[]): (text: string) => string | null {
  const phrases = keywords
    .map((keyword) => ({ keyword, tokens: words(keyword) }))
    .filter((phrase) => phrase.tokens.length > 0);
  return (text) => {
    if (phrases.length === 0) return null;
    const tokens = words(text);
    for (const { keyword, tokens: phrase } of phrases) {
      for (let start = 0; start + phrase.length <= tokens.length; start++) {
        if (phrase.every((token, i) => tokens[start + i] === token)) return keyword;
      }
    }
    return null;
  };
}
