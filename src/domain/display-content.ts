/**
 * What a person sees of a message (admin thread, simulator page): a plain, JSON-safe description built once from
 * Content + MessageContext. The admin turns it into escaped HTML, the simulator page into DOM text nodes; neither
 * decides labels or links itself. Media is described, never fetched.
 */
import type { Content, MessageContext } from './content.js';
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
      items: Array<{ label: string; contentType: string; filename?: string }>;
      caption?: string;
    }
  | { kind: 'location'; title: string; address?: string; coordinates: string; mapUrl: string }
  | { kind: 'contacts'; cards: Array<{ name: string; details: string[] }>; note?: string }
  | { kind: 'reply'; badge: 'button' | 'list'; title: string; payload: string; description?: string }
  | { kind: 'reaction'; emoji: string | null; text: string; targetProviderMessageId: string }
  | { kind: 'muted'; text: string };

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

function bodyOf(content: Content): DisplayBody {
  switch (content.type) {
    case 'text':
      return { kind: 'text', text: content.text };
    case 'media': {
      const caption = content.caption?.trim();
      return {
        kind: 'attachments',
        items: content.items.map((item) => ({
          label: MEDIA_LABELS[item.kind],
          contentType: item.contentType,
          ...(item.filename ? { filename: oneLine(item.filename) } : {}),
        })),
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
