/**
 * One Meta message object → Content (wire facts §5.3), by its `type`. What the core has no kind for (an order, a
 * system notice, an unsupported message) becomes `unsupported` with a description, so no message is an empty
 * turn; what a later step needs (the media id and sha256 to fetch and check a file) is kept in `metadata`.
 */
import type { ContactCard, Content, MediaItem, MediaKind } from '../../domain/content.js';
import { array, isObject, number, object, providerId, raw, text, type Json } from './json.js';

export interface ParsedContent {
  content: Content;
  /** Kept beside the content in the message's metadata (media ids and hashes, an order, the errors). */
  metadata: Record<string, unknown>;
}

const MAX_CAPTION = 4096;
const MAX_TITLE = 256;
const MAX_CONTACTS = 20;
const MAX_ITEMS = 50;
const MIME = /^[\w.+-]+\/[\w.+-]+$/;

const MEDIA_TYPES: Readonly<Record<string, MediaKind>> = {
  image: 'image',
  video: 'video',
  document: 'document',
  sticker: 'sticker',
  audio: 'audio',
};

/** The content of `message` (a `messages[]` item), whatever its type; unknown types are `unsupported`. */
export function metaContent(message: Json): ParsedContent {
  const type = text(message, 'type', 40) ?? 'unknown';
  switch (type) {
    case 'text':
      return textContent(message);
    case 'image':
    case 'video':
    case 'document':
    case 'sticker':
    case 'audio':
      return mediaContent(message, type);
    case 'location':
      return locationContent(message);
    case 'contacts':
      return contactsContent(message);
    case 'interactive':
      return interactiveContent(message);
    case 'button':
      return buttonContent(message);
    case 'reaction':
      return reactionContent(message);
    case 'order':
      return orderContent(message);
    case 'system':
      return systemContent(message);
    default:
      return unsupported(message, type);
  }
}

function textContent(message: Json): ParsedContent {
  const body = text(object(message, 'text'), 'body', Number.MAX_SAFE_INTEGER);
  // An empty text cannot be sent from WhatsApp; if one comes it says nothing, and is not an empty turn.
  return body === undefined
    ? { content: { type: 'unsupported', providerType: 'text', description: 'an empty text' }, metadata: {} }
    : { content: { type: 'text', text: body }, metadata: {} };
}

/** `audio/ogg; codecs=opus` is judged by its type, as the content type; the parameters stay in metadata. */
function contentType(mime: string | undefined): string {
  const type = mime?.split(';')[0]?.trim().toLowerCase() ?? '';
  return MIME.test(type) ? type : 'application/octet-stream';
}

function mediaContent(message: Json, type: string): ParsedContent {
  const media = object(message, type);
  const id = providerId(media, 'id');
  if (!media || id === undefined) return unsupported(message, type, 'a media message without a media id');
  const mime = text(media, 'mime_type', 200);
  let kind = MEDIA_TYPES[type] ?? 'document';
  // `voice: true` marks a recorded voice note; without the flag (older versions), WhatsApp's ogg/opus is one.
  if (kind === 'audio') {
    const voice = media.voice;
    if (voice === true || (voice === undefined && contentType(mime) === 'audio/ogg')) kind = 'voice';
  }
  const filename = text(media, 'filename', 256);
  const item: MediaItem = {
    kind,
    contentType: contentType(mime),
    reference: id,
    ...(filename !== undefined ? { filename } : {}),
  };
  const caption = text(media, 'caption', MAX_CAPTION);
  const sha256 = text(media, 'sha256', 128);
  return {
    content: { type: 'media', items: [item], ...(caption !== undefined ? { caption } : {}) },
    metadata: {
      media: [
        {
          id,
          ...(mime !== undefined ? { mimeType: mime } : {}),
          ...(sha256 !== undefined ? { sha256 } : {}),
          ...(kind === 'voice' ? { voice: true } : {}),
          ...(filename !== undefined ? { filename } : {}),
        },
      ],
    },
  };
}

function locationContent(message: Json): ParsedContent {
  const place = object(message, 'location');
  const latitude = number(place, 'latitude');
  const longitude = number(place, 'longitude');
  if (
    latitude === undefined ||
    longitude === undefined ||
    Math.abs(latitude) > 90 ||
    Math.abs(longitude) > 180
  )
    return unsupported(message, 'location', 'a location without valid coordinates');
  const name = text(place, 'name');
  const address = text(place, 'address');
  const url = text(place, 'url', 2048);
  return {
    content: {
      type: 'location',
      latitude,
      longitude,
      ...(name !== undefined ? { name } : {}),
      ...(address !== undefined ? { address } : {}),
    },
    metadata: url !== undefined ? { locationUrl: url } : {},
  };
}

function contactCard(card: unknown): ContactCard {
  const name = object(card, 'name');
  const formatted =
    text(name, 'formatted_name') ??
    [text(name, 'first_name'), text(name, 'last_name')].filter(Boolean).join(' ');
  const phones = array(card, 'phones')
    .map((phone) => text(phone, 'phone', 64) ?? (raw(phone, 'wa_id') ? `+${raw(phone, 'wa_id')}` : undefined))
    .filter((phone): phone is string => phone !== undefined)
    .slice(0, MAX_CONTACTS);
  const emails = array(card, 'emails')
    .map((email) => text(email, 'email', 256))
    .filter((email): email is string => email !== undefined)
    .slice(0, MAX_CONTACTS);
  const organization = text(object(card, 'org'), 'company');
  return {
    name: formatted,
    phones,
    ...(emails.length > 0 ? { emails } : {}),
    ...(organization !== undefined ? { organization } : {}),
  };
}

function contactsContent(message: Json): ParsedContent {
  const cards = array(message, 'contacts').filter(isObject).slice(0, MAX_CONTACTS).map(contactCard);
  if (cards.length === 0) return unsupported(message, 'contacts', 'a contact message without a card');
  return { content: { type: 'contacts', contacts: cards }, metadata: {} };
}

function interactiveContent(message: Json): ParsedContent {
  const interactive = object(message, 'interactive');
  const kind = text(interactive, 'type', 40);
  if (kind === 'button_reply' || kind === 'list_reply') {
    const reply = object(interactive, kind);
    const id = text(reply, 'id', MAX_TITLE) ?? '';
    const title = text(reply, 'title', MAX_TITLE) ?? id;
    const description = text(reply, 'description', MAX_TITLE);
    if (title === '') return unsupported(message, `interactive.${kind}`, 'a reply without a title or id');
    return {
      content: {
        type: 'interactive_reply',
        kind: kind === 'list_reply' ? 'list' : 'button',
        id,
        title,
        ...(description !== undefined ? { description } : {}),
      },
      metadata: {},
    };
  }
  // A Flow's answer (nfm_reply) and kinds still to come: named, kept out of the conversation's text.
  return unsupported(message, `interactive.${kind ?? 'unknown'}`);
}

/** A template's quick-reply button: `payload` is what the business defined, `text` what the user saw. */
function buttonContent(message: Json): ParsedContent {
  const button = object(message, 'button');
  const payload = text(button, 'payload', MAX_TITLE);
  const title = text(button, 'text', MAX_TITLE) ?? payload;
  if (title === undefined) return unsupported(message, 'button', 'a button reply without text or payload');
  return { content: { type: 'interactive_reply', kind: 'button', id: payload ?? '', title }, metadata: {} };
}

/** `emoji` is left out when the user removed their reaction. */
function reactionContent(message: Json): ParsedContent {
  const reaction = object(message, 'reaction');
  const target = providerId(reaction, 'message_id');
  if (target === undefined) return unsupported(message, 'reaction', 'a reaction without its message');
  const emoji = text(reaction, 'emoji', 16);
  return {
    content: { type: 'reaction', emoji: emoji ?? null, targetProviderMessageId: target },
    metadata: {},
  };
}

function orderContent(message: Json): ParsedContent {
  const order = object(message, 'order');
  const items = array(order, 'product_items')
    .filter(isObject)
    .slice(0, MAX_ITEMS)
    .map((item) => ({
      productRetailerId: text(item, 'product_retailer_id', 128) ?? '',
      quantity: number(item, 'quantity') ?? 0,
      itemPrice: number(item, 'item_price') ?? 0,
      currency: text(item, 'currency', 8) ?? '',
    }));
  const note = text(order, 'text', MAX_CAPTION);
  const lines = items.map((item) =>
    `${item.quantity} × ${item.productRetailerId} at ${item.itemPrice} ${item.currency}`.trim(),
  );
  const description = [
    `an order of ${items.length} product${items.length === 1 ? '' : 's'}${lines.length > 0 ? `: ${lines.join('; ')}` : ''}`,
    ...(note !== undefined ? [`note: "${note}"`] : []),
  ].join('; ');
  const catalogId = text(order, 'catalog_id', 128);
  return {
    content: { type: 'unsupported', providerType: 'order', description },
    metadata: {
      order: { ...(catalogId !== undefined ? { catalogId } : {}), items, ...(note ? { note } : {}) },
    },
  };
}

/** `user_changed_number` (and the BSUID's `user_changed_user_id`): WhatsApp's notice, not the user's words. */
function systemContent(message: Json): ParsedContent {
  const system = object(message, 'system');
  const kind = text(system, 'type', 60) ?? 'system';
  const body = text(system, 'body') ?? kind;
  const newWaId = raw(system, 'wa_id');
  const newUserId = raw(system, 'user_changed_user_id');
  return {
    content: { type: 'unsupported', providerType: `system.${kind}`, description: `WhatsApp notice: ${body}` },
    metadata: {
      system: {
        type: kind,
        ...(newWaId && /^\d{6,15}$/.test(newWaId) ? { waId: newWaId } : {}),
        ...(newUserId && newUserId.length <= 200 ? { userId: newUserId } : {}),
      },
    },
  };
}

/** `unsupported` (Meta's own: an edit, a poll, …) and any type we do not know, with what Meta said about it. */
function unsupported(message: Json, type: string, reason?: string): ParsedContent {
  const inner = object(message, 'unsupported');
  const providerType =
    type === 'unsupported' || type === 'unknown' ? (text(inner, 'type', 40) ?? type) : type;
  const errors = array(message, 'errors')
    .filter(isObject)
    .slice(0, 5)
    .map((error) => ({
      ...(number(error, 'code') !== undefined ? { code: String(number(error, 'code')) } : {}),
      ...(text(error, 'title', 256) !== undefined ? { title: text(error, 'title', 256) } : {}),
      ...(text(object(error, 'error_data'), 'details', 512) !== undefined
        ? { details: text(object(error, 'error_data'), 'details', 512) }
        : {}),
    }));
  const description = reason ?? (errors[0]?.title !== undefined ? errors[0].title : undefined);
  return {
    content: {
      type: 'unsupported',
      providerType,
      ...(description !== undefined ? { description } : {}),
    },
    metadata: errors.length > 0 ? { errors } : {},
  };
}
