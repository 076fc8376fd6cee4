/**
 * Twilio's inbound params → Content (wire facts §1.2–§1.7). Which kind a message is follows what Twilio sends,
 * most specific first: a reaction, a location, a tapped button or list row, media (a vCard is a contact card),
 * text, and anything else is `unsupported` under Twilio's MessageType, so no message becomes an empty turn.
 */
import type { Content, MediaItem, MediaKind } from '../../domain/content.js';
import { AppError } from '../../domain/errors.js';
import { stripControlChars, truncate } from '../../domain/sanitize.js';
import { single, text, type FormParams } from './params.js';

/** Twilio sends at most 10 media per message; the bound keeps a hostile NumMedia from driving a long loop. */
const MAX_MEDIA = 20;
const NUMBER = /^-?\d+(\.\d+)?$/;
const MIME = /^[\w.+-]+\/[\w.+-]+$/;
const VCARD_TYPES: ReadonlySet<string> = new Set(['text/vcard', 'text/x-vcard', 'text/directory']);

/** A media item as metadata.media has always kept it: `unknown` for a type we do not trust. */
export interface RawMedia {
  url: string;
  contentType: string;
}

export function media(params: FormParams): { numMedia: number; items: RawMedia[] } {
  const raw = single(params, 'NumMedia');
  if (raw === undefined || raw === '') return { numMedia: 0, items: [] };
  if (!/^\d{1,4}$/.test(raw)) throw new AppError('invalid_input', 'Twilio NumMedia is not a whole number');
  const numMedia = Number(raw);
  const items: RawMedia[] = [];
  for (let i = 0; i < Math.min(numMedia, MAX_MEDIA); i += 1) {
    const url = single(params, `MediaUrl${i}`);
    if (!url) continue;
    // `audio/ogg; codecs=opus` is judged by its type; the parameters are dropped.
    const type = (single(params, `MediaContentType${i}`) ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    items.push({
      url: truncate(stripControlChars(url), 2048),
      contentType: MIME.test(type) ? type : 'unknown',
    });
  }
  return { numMedia, items };
}

export interface Location {
  latitude: number;
  longitude: number;
  address?: string;
  label?: string;
}

export function location(params: FormParams): Location | undefined {
  const lat = single(params, 'Latitude');
  const lon = single(params, 'Longitude');
  if (!lat && !lon) return undefined;
  const latitude = Number(lat);
  const longitude = Number(lon);
  if (
    !lat ||
    !lon ||
    !NUMBER.test(lat) ||
    !NUMBER.test(lon) ||
    Math.abs(latitude) > 90 ||
    Math.abs(longitude) > 180
  ) {
    throw new AppError('invalid_input', 'Twilio Latitude/Longitude are not a valid coordinate pair');
  }
  const result: Location = { latitude, longitude };
  const place = text(params, 'Address');
  const label = text(params, 'Label');
  if (place !== undefined) result.address = place;
  if (label !== undefined) result.label = label;
  return result;
}

/**
 * The kind of one item. WhatsApp voice notes are `audio/ogg` (opus); other audio is a shared file. A sticker is
 * `image/webp`, named by MessageType=sticker when Twilio says so.
 */
export function mediaKind(contentType: string, messageType: string | undefined): MediaKind {
  const [family] = contentType.split('/');
  if (messageType === 'sticker' || (contentType === 'image/webp' && messageType !== 'image'))
    return 'sticker';
  if (family === 'image') return 'image';
  if (family === 'audio') return messageType === 'voice' || contentType === 'audio/ogg' ? 'voice' : 'audio';
  if (family === 'video') return 'video';
  return 'document';
}

function mediaItem(item: RawMedia, messageType: string | undefined): MediaItem {
  const contentType = item.contentType === 'unknown' ? 'application/octet-stream' : item.contentType;
  return { kind: mediaKind(contentType, messageType), contentType, reference: item.url };
}

function interactiveReply(
  params: FormParams,
  messageType: string | undefined,
  body: string,
): Content | undefined {
  const payload = text(params, 'ButtonPayload');
  // List-picker replies: Twilio's field name is not documented (wire facts §1.7); ListId is accepted if it comes.
  const listId = text(params, 'ListId');
  const buttonText = text(params, 'ButtonText');
  const tapped = messageType === 'button' || messageType === 'interactive';
  if (payload === undefined && listId === undefined && buttonText === undefined && !tapped) return undefined;
  const title = buttonText ?? (body.trim() || undefined) ?? payload ?? listId;
  if (title === undefined) return undefined;
  return {
    type: 'interactive_reply',
    kind: listId !== undefined && payload === undefined ? 'list' : 'button',
    id: payload ?? listId ?? '',
    title,
  };
}

/**
 * MessageType=reaction is not in Twilio's documentation (wire facts §1.3): accepted when it names its target
 * (OriginalRepliedMessageSid) and carries the emoji as Body (empty: the reaction was removed).
 */
function reaction(params: FormParams, body: string): Content {
  const target = text(params, 'OriginalRepliedMessageSid');
  if (target === undefined || !/^[A-Za-z0-9._=-]{2,128}$/.test(target))
    return { type: 'unsupported', providerType: 'reaction' };
  const emoji = truncate(body.trim(), 16);
  return { type: 'reaction', emoji: emoji === '' ? null : emoji, targetProviderMessageId: target };
}

/** Content of an inbound message whose Body is already sanitized and within bounds. */
export function inboundContent(
  params: FormParams,
  body: string,
  parsed: { numMedia: number; items: RawMedia[]; place: Location | undefined },
): Content {
  const messageType = text(params, 'MessageType', 40)?.toLowerCase();
  const caption = body.trim();
  if (messageType === 'reaction') return reaction(params, body);
  const { place } = parsed;
  if (place) {
    return {
      type: 'location',
      latitude: place.latitude,
      longitude: place.longitude,
      ...(place.label !== undefined ? { name: place.label } : {}),
      ...(place.address !== undefined ? { address: place.address } : {}),
    };
  }
  const reply = interactiveReply(params, messageType, body);
  if (reply) return reply;
  const vcards = parsed.items.filter((item) => VCARD_TYPES.has(item.contentType));
  if (messageType === 'contacts' || (vcards.length > 0 && vcards.length === parsed.items.length)) {
    const references = (vcards.length > 0 ? vcards : parsed.items).map((item) => item.url);
    return {
      type: 'contacts',
      contacts: [],
      ...(references.length > 0 ? { vcardReferences: references } : {}),
    };
  }
  if (parsed.numMedia > 0 || parsed.items.length > 0) {
    return {
      type: 'media',
      items: parsed.items.map((item) => mediaItem(item, messageType)),
      ...(caption !== '' ? { caption: body } : {}),
    };
  }
  if (caption !== '') return { type: 'text', text: body };
  return { type: 'unsupported', providerType: messageType ?? 'unknown' };
}
