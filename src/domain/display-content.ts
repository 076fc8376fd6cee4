/**
 * What a person sees of a message (admin thread, simulator page): a plain, JSON-safe description built once from
 * Content + MessageContext. The admin turns it into escaped HTML, the simulator page into DOM text nodes; neither
 * decides labels or links itself. Media is described, never fetched.
 */
import type { Content, MediaItem, MediaKind, MessageContext } from './content.js';
import {
  clip,
  coordinates,
  forwardedLabel,
  MEDIA_LABELS,
  oneLine,
  QUOTE_MAX,
  referralLabel,
  summarize,
} from './render-content.js';

export type DisplayBody =
  | { kind: 'text'; text: string }
  | {
      kind: 'attachments';
      items: DisplayAttachment[];
      caption?: string;
    }
  | { kind: 'location'; title: string; address?: string; coordinates: string; mapUrl: string }
  | { kind: 'contacts'; cards: Array<{ name: string; details: string[] }>; note?: string }
  | { kind: 'reply'; badge: 'button' | 'list'; title: string; payload: string; description?: string }
  | { kind: 'reaction'; emoji: string | null; text: string; targetProviderMessageId: string }
  | { kind: 'muted'; text: string };

export interface DisplayAttachment {
  label: string;
  kind: MediaKind;
  contentType: string;
  filename?: string;
  /** The media store key of the downloaded bytes (`<message id>/<index>`): the page links or plays them. */
  mediaKey?: string;
  /** A voice note's words, as transcribed. */
  transcript?: string;
  /** Why the file was not taken, as a sentence. */
  refused?: string;
}

export interface MessageDisplay {
  body: DisplayBody;
  /** Small lines above the body: "Forwarded", "From ad "Spring sale"". */
  notes: string[];
  /** The quoted message: its text when known, else null ("an earlier message"). */
  quote?: { text: string | null; providerMessageId: string };
  /** The one-line summary for lists. */
  summary: string;
}

/** A map link for a coordinate pair (OpenStreetMap: no account, no tracking parameters). */
export function mapUrl(latitude: number, longitude: number): string {
  return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=17/${latitude}/${longitude}`;
}

/** The keys media/store.ts makes; anything else in a stored payload is not offered as a link. */
const MEDIA_KEY = /^[0-9a-zA-Z-]{1,64}\/\d{1,4}$/;

const REFUSALS: Record<string, string> = {
  too_large: 'Not downloaded: larger than the size limit (MEDIA_MAX_BYTES).',
  type_not_allowed: 'Not downloaded: this type of file is not accepted.',
  foreign_host: "Not downloaded: the link pointed outside the channel's media host.",
  gone: 'Not downloaded: the file was no longer available.',
};

/** What a person reads about a file the worker did not take (MediaItem.refused). */
export function refusalSentence(reason: string): string {
  return REFUSALS[reason] ?? `Not downloaded (${oneLine(reason)}).`;
}

/** The store key of an item's downloaded bytes, when the payload holds a well-formed one. */
export function storedKeyOf(item: MediaItem): string | undefined {
  const stored = item.stored as Partial<NonNullable<MediaItem['stored']>> | undefined;
  return typeof stored?.key === 'string' && MEDIA_KEY.test(stored.key) ? stored.key : undefined;
}

function attachmentOf(item: MediaItem): DisplayAttachment {
  const mediaKey = storedKeyOf(item);
  const storedType = item.stored?.contentType;
  const transcript = typeof item.transcript === 'string' ? item.transcript.trim() : '';
  return {
    label: MEDIA_LABELS[item.kind],
    kind: item.kind,
    contentType: mediaKey && typeof storedType === 'string' ? storedType : item.contentType,
    ...(item.filename ? { filename: oneLine(item.filename) } : {}),
    ...(mediaKey ? { mediaKey } : {}),
    ...(transcript ? { transcript } : {}),
    ...(typeof item.refused === 'string' ? { refused: refusalSentence(item.refused) } : {}),
  };
}

function bodyOf(content: Content): DisplayBody {
  switch (content.type) {
    case 'text':
      return { kind: 'text', text: content.text };
    case 'media': {
      const caption = content.caption?.trim();
      return {
        kind: 'attachments',
        items: content.items.map(attachmentOf),
        ...(caption ? { caption } : {}),
      };
    }
    case 'location': {
      const address = content.address ? oneLine(content.address) : '';
      return {
        kind: 'location',
        title: (content.name ? oneLine(content.name) : '') || address || 'Shared location',
        ...(content.name && address ? { address } : {}),
        coordinates: coordinates(content),
        mapUrl: mapUrl(content.latitude, content.longitude),
      };
    }
    case 'contacts':
      return {
        kind: 'contacts',
        cards: content.contacts.map((card) => ({
          name: oneLine(card.name) || 'Unnamed contact',
          details: [
            ...card.phones,
            ...(card.emails ?? []),
            ...(card.organization ? [oneLine(card.organization)] : []),
          ],
        })),
        ...(content.contacts.length === 0 ? { note: 'Contact card (vCard file, not read)' } : {}),
      };
    case 'interactive_reply':
      return {
        kind: 'reply',
        badge: content.kind,
        title: oneLine(content.title),
        payload: content.id,
        ...(content.description ? { description: oneLine(content.description) } : {}),
      };
    case 'reaction':
      return {
        kind: 'reaction',
        emoji: content.emoji,
        text: content.emoji === null ? 'removed a reaction' : `reacted ${content.emoji}`,
        targetProviderMessageId: content.targetProviderMessageId,
      };
    case 'template':
    case 'unsupported':
      return { kind: 'muted', text: summarize(content) };
  }
}

/** The display of one message; `quotedText` is the quoted message's text when the caller found it. */
export function displayOf(
  content: Content,
  context: MessageContext,
  options: { quotedText?: string } = {},
): MessageDisplay {
  const notes: string[] = [];
  if (context.forwarded) notes.push(forwardedLabel(context.forwarded));
  if (context.referral) notes.push(`From ${referralLabel(context.referral)}`);
  const display: MessageDisplay = { body: bodyOf(content), notes, summary: summarize(content) };
  if (context.quote && content.type !== 'reaction') {
    display.quote = {
      text: options.quotedText !== undefined ? clip(options.quotedText, QUOTE_MAX) : null,
      providerMessageId: context.quote.providerMessageId,
    };
  }
  return display;
}
