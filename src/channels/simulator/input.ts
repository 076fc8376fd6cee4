/** Checks of what the simulator page sends; each failure is an invalid_input (400) that says what to fix. */
import type { MediaKind } from '../../domain/content.js';
import { AppError } from '../../domain/errors.js';
import { codePointLength, isE164, stripControlChars } from '../../domain/sanitize.js';

/** WhatsApp's own limit for one text message. */
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_PROFILE_NAME_LENGTH = 80;
/** What the channel's ids look like; a read receipt for anything else (a Twilio SID) is refused. */
const SIMULATOR_ID = /^SIM[0-9a-f]{32}$/;
/** Spaces, dashes, dots and brackets people type inside phone numbers. */
const PHONE_FORMATTING = /[\s\-.()]/g;

export interface SimulatedInbound {
  /** `+E164` */
  from: string;
  profileName: string | null;
  body: string;
}

function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('invalid_input', 'expected a JSON object body');
  }
  return body as Record<string, unknown>;
}

/** `+E164` from what a person typed ("+1 (415) 555-0100" is fine). */
export function parsePhone(value: unknown, field: string): string {
  const phone = typeof value === 'string' ? value.replace(PHONE_FORMATTING, '') : '';
  if (!isE164(phone)) {
    throw new AppError(
      'invalid_input',
      `${field} must be a phone number in international format: + then country code and number, e.g. +14155550100`,
    );
  }
  return phone;
}

/**
 * The `address` query parameter. An unencoded `+` arrives as a space in a query string, so a number without
 * its `+` is taken as meant with one.
 */
export function parseAddressQuery(value: unknown): string {
  const raw = typeof value === 'string' ? value.trim() : '';
  return parsePhone(/^\d/.test(raw) ? `+${raw}` : raw, 'address');
}

export function parseInbound(body: unknown): SimulatedInbound {
  const fields = record(body);
  const from = parsePhone(fields.from, 'from');
  if (typeof fields.body !== 'string')
    throw new AppError('invalid_input', 'body must be a string: the message text');
  const text = stripControlChars(fields.body);
  if (text.trim() === '') throw new AppError('invalid_input', 'the message is empty');
  const length = codePointLength(text);
  if (length > MAX_MESSAGE_LENGTH) {
    throw new AppError(
      'invalid_input',
      `the message is ${length} characters long; WhatsApp allows at most ${MAX_MESSAGE_LENGTH}`,
    );
  }
  return { from, profileName: parseProfileName(fields.profileName), body: text };
}

function parseProfileName(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new AppError('invalid_input', 'profileName must be a string');
  const name = stripControlChars(value).replace(/\s+/g, ' ').trim();
  if (codePointLength(name) > MAX_PROFILE_NAME_LENGTH) {
    throw new AppError('invalid_input', `profileName must be at most ${MAX_PROFILE_NAME_LENGTH} characters`);
  }
  return name === '' ? null : name;
}

export function parseReadReceipt(body: unknown): { providerMessageId: string } {
  const { providerMessageId } = record(body);
  if (typeof providerMessageId !== 'string' || !SIMULATOR_ID.test(providerMessageId)) {
    throw new AppError(
      'invalid_input',
      'providerMessageId must be the id of a message the simulator delivered',
    );
  }
  return { providerMessageId };
}

export interface SimulatedUpload {
  from: string;
  profileName: string | null;
  /** The text typed beside the file, if any. */
  caption: string | null;
  filename: string | null;
  kind: MediaKind;
  /** The bare MIME type, lower case. */
  contentType: string;
  bytes: Buffer;
}

const MAX_FILENAME_LENGTH = 200;

/**
 * POST /simulator/api/media?from=…[&profileName=…][&caption=…][&filename=…][&voice=1], the file as the body with
 * its own Content-Type. `voice=1` marks a recording made on the page (a voice note), else audio is an audio file.
 */
export function parseUpload(
  query: Record<string, unknown>,
  contentType: string | undefined,
  body: unknown,
  options: { maxBytes: number; allowedTypes: readonly string[] },
): SimulatedUpload {
  const from = parsePhone(query.from, 'from');
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!options.allowedTypes.includes(type))
    throw new AppError(
      'invalid_input',
      `files of type ${type || '(none)'} cannot be sent; send a photo, a voice note or audio, a video, a PDF or a text document`,
    );
  if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('invalid_input', 'the file is empty');
  if (body.length > options.maxBytes)
    throw new AppError(
      'payload_too_large',
      `the file is ${body.length} bytes; at most ${options.maxBytes} (MEDIA_MAX_BYTES)`,
    );
  const caption = optionalText(query.caption, 'caption', MAX_MESSAGE_LENGTH);
  const filename = optionalText(query.filename, 'filename', MAX_FILENAME_LENGTH);
  return {
    from,
    profileName: parseProfileName(query.profileName),
    caption: caption === null ? null : caption,
    filename: filename === null ? null : filename.replace(/\s+/g, ' '),
    kind: kindOf(type, query.voice === '1'),
    contentType: type,
    bytes: body,
  };
}

function kindOf(type: string, voice: boolean): MediaKind {
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return voice ? 'voice' : 'audio';
  if (type.startsWith('video/')) return 'video';
  return 'document';
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new AppError('invalid_input', `${field} must be text`);
  const text = stripControlChars(value).trim();
  if (codePointLength(text) > max)
    throw new AppError('invalid_input', `${field} must be at most ${max} characters`);
  return text === '' ? null : text;
}
