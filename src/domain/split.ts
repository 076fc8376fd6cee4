/**
 * Split a reply into parts the channel accepts (Twilio WhatsApp: 1600 characters, error 21617), cutting on a
 * paragraph break, else at the end of a sentence, else between words, else anywhere (never inside a surrogate
 * pair). Parts keep their order. A boundary is only used if the part it ends is at least MIN_FILL of the limit,
 * so one early paragraph break does not produce a tiny first message.
 */
const MIN_FILL = 0.5;
const SENTENCE_END = /[.!?…。！？]["'”’»)\]]*(?=\s)/g;

export function splitReply(text: string, limit: number): string[] {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    const part = rest.slice(0, cut).trimEnd();
    if (part.length > 0) parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

/** Index at which to end the next part: 1..limit. */
function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit + 1);
  const minimum = Math.floor(limit * MIN_FILL);
  const paragraph = window.lastIndexOf('\n\n', limit);
  if (paragraph >= minimum) return paragraph;
  const sentence = lastSentenceEnd(window, limit);
  if (sentence >= minimum) return sentence;
  const space = lastWhitespace(window, limit);
  if (space > 0) return space;
  return hardCut(text, limit);
}

function lastSentenceEnd(window: string, limit: number): number {
  let best = -1;
  for (const match of window.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    if (end <= limit) best = end;
  }
  return best;
}

function lastWhitespace(window: string, limit: number): number {
  for (let i = Math.min(limit, window.length - 1); i > 0; i--) {
    if (/\s/.test(window[i] ?? '')) return i;
  }
  return -1;
}

/** Cut at the limit, stepping back one unit if that would split a surrogate pair (an emoji). */
function hardCut(text: string, limit: number): number {
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff && limit > 1 ? limit - 1 : limit;
}
