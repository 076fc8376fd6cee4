/**
 * Twilio's form params → InboundMessage / delivery status. The signature has already been checked; this checks
 * shape, because a signed request can still carry what we never want to store (and a bug or a replay of a
 * hand-made request should fail loudly, not half-way through the pipeline).
 */
import { AppError } from '../../domain/errors.js';
import { codePointLength, isChannelAddress, stripControlChars, truncate } from '../../domain/sanitize.js';
import type { DeliveryStatus, InboundMessage } from '../../domain/types.js';

export type FormParams = Record<string, string | string[]>;

export const DEFAULT_MAX_INBOUND_LENGTH = 4096;
const MAX_PROFILE_NAME = 256;
/** Bound for every other free-text field we keep, so metadata cannot grow without limit. */
const MAX_FIELD = 1024;
/** Twilio sends at most 10 media per message; the bound keeps a hostile NumMedia from driving a long loop. */
const MAX_MEDIA = 20;
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Read a single-valued param; a repeated one is hostile (two MessageSids: which one is deduplicated?). */
function single(params: FormParams, key: string): string | undefined {
  if (!Object.hasOwn(params, key)) return undefined;
  const value = params[key];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length > 1)
    throw new AppError('invalid_input', `Twilio param ${key} must appear once, got ${value.length}`);
  return value[0];
}

function text(params: FormParams, key: string, max = MAX_FIELD): string | undefined {
  const value = single(params, key);
  if (value === undefined) return undefined;
  const clean = truncate(stripControlChars(value).trim(), max);
  return clean === '' ? undefined : clean;
}

function messageSid(params: FormParams): string {
  const sid = single(params, 'MessageSid');
  if (sid === undefined || sid === '') throw new AppError('invalid_input', 'Twilio MessageSid is missing');
  if (!MESSAGE_SID.test(sid))
    throw new AppError('invalid_input', 'Twilio MessageSid is not SM/MM followed by 32 hex');
  return sid;
}

function address(params: FormParams, key: 'From' | 'To'): string {
  const value = single(params, key);
  if (value === undefined || value === '') throw new AppError('invalid_input', `Twilio ${key} is missing`);
  if (!isChannelAddress(value)) {
    throw new AppError(
      'invalid_input',
      `Twilio ${key} is not a WhatsApp address (whatsapp:+E164 or a scoped id)`,
    );
  }
  return value;
}

interface Media {
  url: string;
  contentType: string;
}

function media(params: FormParams): { numMedia: number; items: Media[] } {
  const raw = single(params, 'NumMedia');
  if (raw === undefined || raw === '') return { numMedia: 0, items: [] };
  if (!/^\d{1,4}$/.test(raw)) throw new AppError('invalid_input', 'Twilio NumMedia is not a whole number');
  const numMedia = Number(raw);
  const items: Media[] = [];
  for (let i = 0; i < Math.min(numMedia, MAX_MEDIA); i += 1) {
    const url = single(params, `MediaUrl${i}`);
    if (!url) continue;
    const type = single(params, `MediaContentType${i}`) ?? '';
    items.push({
      url: truncate(stripControlChars(url), 2048),
      contentType: /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'unknown',
    });
  }
  return { numMedia, items };
}

interface Location {
  latitude: number;
  longitude: number;
  address?: string;
  label?: string;
}

function location(params: FormParams): Location | undefined {
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

/** Referral* params (click-to-WhatsApp ads), non-empty ones, under their Twilio names. */
function referral(params: FormParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const key of Object.keys(params)) {
    if (!key.startsWith('Referral') || !/^Referral\w{1,40}$/.test(key)) continue;
    const value = text(params, key);
    // Twilio sends ReferralNumMedia=0 on every message; it says nothing.
    if (value === undefined || (key === 'ReferralNumMedia' && value === '0')) continue;
    result[key] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** What the model sees when the user sent no text: media and location messages still mean something. */
function placeholder(numMedia: number, items: Media[], place: Location | undefined): string {
  const parts = items.map(
    (item) => `[${item.contentType === 'unknown' ? '' : `${item.contentType} `}attachment]`,
  );
  if (numMedia > 0 && items.length === 0) parts.push('[attachment]');
  if (place) {
    const name = [place.label, place.address].filter(Boolean).join(', ');
    parts.push(`[location ${place.latitude},${place.longitude}${name ? ` ${name}` : ''}]`);
  }
  return parts.join('\n');
}

export interface ParseInboundOptions {
  /** Longest body accepted, in characters (code points) after sanitizing. */
  maxBodyLength?: number;
}

/** Parse a Twilio WhatsApp inbound webhook. Throws AppError('invalid_input') with a reason a developer can act on. */
export function parseTwilioInbound(params: FormParams, options: ParseInboundOptions = {}): InboundMessage {
  const maxBodyLength = options.maxBodyLength ?? DEFAULT_MAX_INBOUND_LENGTH;
  const providerMessageId = messageSid(params);
  const from = address(params, 'From');
  const to = address(params, 'To');
  const body = stripControlChars(single(params, 'Body') ?? '');
  if (codePointLength(body) > maxBodyLength) {
    throw new AppError('invalid_input', `Twilio Body is longer than ${maxBodyLength} characters`);
  }
  const { numMedia, items } = media(params);
  const place = location(params);
  const profileName = text(params, 'ProfileName', MAX_PROFILE_NAME) ?? null;

  const metadata: Record<string, unknown> = { numMedia };
  if (items.length > 0) metadata.media = items;
  if (place) metadata.location = place;
  if (profileName !== null) metadata.profileName = profileName;
  const fields: Array<[string, string]> = [
    ['waId', 'WaId'],
    ['messageType', 'MessageType'],
    ['buttonPayload', 'ButtonPayload'],
    ['buttonText', 'ButtonText'],
    ['originalRepliedMessageSid', 'OriginalRepliedMessageSid'],
    ['externalUserId', 'ExternalUserId'],
    ['accountSid', 'AccountSid'],
    ['messagingServiceSid', 'MessagingServiceSid'],
  ];
  for (const [name, key] of fields) {
    const value = text(params, key);
    if (value !== undefined) metadata[name] = value;
  }
  const referralFields = referral(params);
  if (referralFields) metadata.referral = referralFields;

  const rendered = body.trim() === '' ? placeholder(numMedia, items, place) : body;
  return {
    channel: 'twilio',
    providerMessageId,
    from,
    to,
    body: rendered,
    // Typed parsing of every kind comes with the content work of issue 13; until then everything is text.
    content: { type: 'text', text: rendered },
    context: {},
    profileName,
    metadata,
  };
}

const STATUSES: ReadonlySet<string> = new Set<DeliveryStatus>([
  'queued',
  'accepted',
  'scheduled',
  'sending',
  'sent',
  'failed',
  'undelivered',
  'delivered',
  'read',
  'canceled',
]);

/** Twilio's MessageStatus → ours; anything new or unexpected is 'unknown' rather than an error. */
export function toDeliveryStatus(status: string | undefined): DeliveryStatus {
  const value = status?.trim().toLowerCase() ?? '';
  return STATUSES.has(value) ? (value as DeliveryStatus) : 'unknown';
}

export interface TwilioStatusUpdate {
  providerMessageId: string;
  status: DeliveryStatus;
  errorCode: string | null;
}

/** Parse a status callback (several per message, in any order; the caller decides what may overwrite what). */
export function parseTwilioStatus(params: FormParams): TwilioStatusUpdate {
  const providerMessageId = messageSid(params);
  // SmsStatus is the legacy name Twilio still sends alongside MessageStatus.
  const status = toDeliveryStatus(single(params, 'MessageStatus') ?? single(params, 'SmsStatus'));
  const code = single(params, 'ErrorCode')?.trim();
  return { providerMessageId, status, errorCode: code && /^\d{1,10}$/.test(code) ? code : null };
}
