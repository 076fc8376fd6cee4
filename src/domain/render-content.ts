/**
 * The text renderings of a message's content: one for the model (a whole turn, never empty) and one short line
 * for lists. Pure; the admin and the simulator build their richer display from display-content.ts, which uses the
 * same labels.
 */
import type { ContactCard, Content, MediaItem, MediaKind, MessageContext, Referral } from './content.js';
import { truncate } from './sanitize.js';

/** How much of a quoted (or reacted-to) message the model sees, in code points. */
export const QUOTE_MAX = 200;
/** Longest one-line summary, in code points. */
export const SUMMARY_MAX = 90;

export interface RenderOptions {
  /** Text of the message the user quoted or reacted to, when the caller could find it. */
  quotedText?: string;
}

export const MEDIA_LABELS: Record<MediaKind, string> = {
  image: 'Image',
  audio: 'Audio',
  voice: 'Voice message',
  video: 'Video',
  document: 'Document',
  sticker: 'Sticker',
};

const MEDIA_ICONS: Record<MediaKind, string> = {
  image: '📷',
  audio: '🎵',
  voice: '🎤',
  video: '🎥',
  document: '📄',
  sticker: '🏷️',
};

/** One line, whitespace collapsed: for quotes, summaries and labels. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** At most `max` code points of `text` on one line, with `…` when cut. */
export function clip(text: string, max: number): string {
  const line = oneLine(text);
  const cut = truncate(line, max);
  return cut === line ? line : `${cut.trimEnd()}…`;
}

/** `Image (image/jpeg)`, `Document "report.pdf" (application/pdf)`. */
export function mediaLabel(item: MediaItem): string {
  const name = item.filename ? ` "${oneLine(item.filename)}"` : '';
  return `${MEDIA_LABELS[item.kind]}${name} (${item.contentType})`;
}

/** `The Harrow Club, 187 Freston Road` or `` when the pin has neither. */
export function placeName(content: { name?: string; address?: string }): string {
  return [content.name, content.address]
    .filter((part): part is string => part !== undefined && oneLine(part) !== '')
    .map(oneLine)
    .join(', ');
}

export function coordinates(content: { latitude: number; longitude: number }): string {
  return `${content.latitude}, ${content.longitude}`;
}

/** `Ana Ruiz, +34 600 000 000, ana@example.com (ACME)`. */
export function contactLabel(card: ContactCard): string {
  const parts = [oneLine(card.name) || 'Unnamed contact', ...card.phones, ...(card.emails ?? [])];
  const org = card.organization ? ` (${oneLine(card.organization)})` : '';
  return `${parts.join(', ')}${org}`;
}

export function forwardedLabel(forwarded: NonNullable<MessageContext['forwarded']>): string {
  return forwarded === 'frequently' ? 'Forwarded many times' : 'Forwarded';
}

/** `ad "Spring sale"`, `post https://fb.me/xyz`, or `ad` alone when it says nothing more. */
export function referralLabel(referral: Referral): string {
  const source = referral.sourceType ? oneLine(referral.sourceType) : 'ad';
  const what = referral.headline
    ? `"${clip(referral.headline, 80)}"`
    : referral.body
      ? `"${clip(referral.body, 80)}"`
      : (referral.sourceUrl ?? referral.sourceId ?? '');
  return what === '' ? source : `${source} ${what}`;
}

/** Why an item was not taken, as the model reads it beside the item (MediaItem.refused). */
const REFUSALS: Record<string, string> = {
  too_large: 'it is larger than the size limit',
  type_not_allowed: 'that kind of file is not accepted',
  foreign_host: 'its link did not come from the WhatsApp provider',
  gone: 'it is no longer available at the WhatsApp provider',
  download_failed: 'it could not be downloaded',
};

/**
 * One media item as a turn's line: a transcript marked as the voice note it was, an item that was not received
 * with why, else its label. Never the bytes, and never a document's text (that goes with its own turn only).
 */
export function mediaLine(item: MediaItem): string {
  if (item.transcript !== undefined) {
    const words = item.transcript.trim();
    return words === ''
      ? `[${MEDIA_LABELS[item.kind]}, transcribed: no words could be heard]`
      : `[${MEDIA_LABELS[item.kind]}, transcribed]: ${words}`;
  }
  if (item.refused !== undefined)
    return `[${mediaLabel(item)} that could not be opened: ${REFUSALS[item.refused] ?? item.refused}]`;
  return `[${mediaLabel(item)}]`;
}

function templateVariables(variables: Record<string, string>): string {
  const entries = Object.entries(variables);
  return entries.length === 0 ? '' : ` with ${entries.map(([k, v]) => `${k}=${clip(v, 60)}`).join(', ')}`;
}

function modelContent(content: Content, quoted: string | undefined): string {
  switch (content.type) {
    case 'text':
      return content.text.trim() === '' ? '[Empty message]' : content.text;
    case 'media': {
      const items =
        content.items.length === 0 ? ['[Attachment that could not be read]'] : content.items.map(mediaLine);
      const caption = content.caption?.trim();
      return caption ? `${items.join('\n')}\n${caption}` : items.join('\n');
    }
    case 'location': {
      const name = placeName(content);
      return `[Shared location: ${name ? `${name}, ` : ''}coordinates ${coordinates(content)}]`;
    }
    case 'contacts': {
      if (content.contacts.length > 0)
        return content.contacts.map((card) => `[Contact card: ${contactLabel(card)}]`).join('\n');
      return '[Contact card (vCard file); its name and numbers were not read]';
    }
    case 'interactive_reply': {
      const what = content.kind === 'list' ? 'Chose the list item' : 'Tapped the button';
      const description = content.description ? `, "${oneLine(content.description)}"` : '';
      const payload = content.id === '' ? '' : ` (payload: ${content.id})`;
      return `[${what} "${oneLine(content.title)}"${description}${payload}]`;
    }
    case 'reaction': {
      const target = quoted !== undefined ? `the message "${quoted}"` : 'an earlier message';
      return content.emoji === null
        ? `[Removed their reaction to ${target}]`
        : `[Reacted ${content.emoji} to ${target}]`;
    }
    case 'template':
      return `[Template ${content.templateId}${templateVariables(content.variables)}]`;
    case 'unsupported': {
      const type = oneLine(content.providerType) || 'unknown';
      const description = content.description ? oneLine(content.description) : '';
      return description
        ? `[A message of type "${type}": ${description}]`
        : `[A message of type "${type}", which cannot be read here]`;
    }
  }
}

/**
 * The turn as the model reads it: context lines (forwarded, ad, quote) and then the content. Never empty, so a
 * message without text still means something to the model.
 */
export function renderForModel(
  content: Content,
  context: MessageContext,
  options: RenderOptions = {},
): string {
  const quoted = options.quotedText !== undefined ? clip(options.quotedText, QUOTE_MAX) : undefined;
  const lines: string[] = [];
  if (context.forwarded) lines.push(`[${forwardedLabel(context.forwarded)}]`);
  if (context.referral) lines.push(`[Came from ${referralLabel(context.referral)}]`);
  // A reaction names its target itself; only a reply gets the quote line.
  if (context.quote && content.type !== 'reaction')
    lines.push(quoted !== undefined ? `[Replying to: "${quoted}"]` : '[Replying to an earlier message]');
  lines.push(modelContent(content, quoted));
  return lines.join('\n');
}

/** One short line for lists (admin conversation list, simulator sidebar); never empty. */
export function summarize(content: Content): string {
  return oneLine(summaryOf(content)) || 'Message';
}

function summaryOf(content: Content): string {
  switch (content.type) {
    case 'text':
      return clip(content.text, SUMMARY_MAX) || 'Empty message';
    case 'media': {
      const first = content.items[0];
      const icon = first ? MEDIA_ICONS[first.kind] : '📎';
      const label = first ? MEDIA_LABELS[first.kind] : 'Attachment';
      const more = content.items.length > 1 ? ` +${content.items.length - 1}` : '';
      const caption = content.caption ? clip(content.caption, SUMMARY_MAX - 12) : '';
      return `${icon} ${caption || label}${more}`;
    }
    case 'location':
      return `📍 ${clip(placeName(content), SUMMARY_MAX) || 'Location'}`;
    case 'contacts':
      return `👤 ${clip(content.contacts.map((c) => c.name).join(', '), SUMMARY_MAX) || 'Contact card'}`;
    case 'interactive_reply':
      return `🔘 ${clip(content.title, SUMMARY_MAX) || content.id}`;
    case 'reaction':
      return content.emoji === null ? 'Removed a reaction' : `Reacted ${content.emoji}`;
    case 'template':
      return `Template ${content.templateId}`;
    case 'unsupported': {
      const type = clip(content.providerType, 40) || 'unknown';
      return content.description
        ? `${type}: ${clip(content.description, SUMMARY_MAX - 42)}`
        : `Unsupported message (${type})`;
    }
  }
}
