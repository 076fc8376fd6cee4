/**
 * What the user wrote themselves in a message: a text's text, a media message's caption, nothing for the other
 * kinds. The length cap (MAX_MESSAGE_LENGTH) is about this, not about our rendering of it (a forwarded text or a
 * quote adds lines of ours that the user did not write).
 */
import type { Content } from './content.js';
import { truncate } from './sanitize.js';

export function userText(content: Content): string {
  if (content.type === 'text') return content.text;
  if (content.type === 'media') return content.caption ?? '';
  return '';
}

/** The same content with the user's own text cut to `max` code points. */
export function withUserTextCut(content: Content, max: number): Content {
  if (content.type === 'text') return { ...content, text: truncate(content.text, max) };
  if (content.type === 'media' && content.caption !== undefined)
    return { ...content, caption: truncate(content.caption, max) };
  return content;
}
