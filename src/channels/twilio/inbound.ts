/**
 * Twilio's form params → InboundMessage / delivery status. The signature has already been checked; this checks
 * shape, because a signed request can still carry what we never want to store (and a bug or a replay of a
 * hand-made request should fail loudly, not half-way through the pipeline).
 */
import { AppError } from '../../domain/errors.js';
import { renderForModel } from '../../domain/render-content.js';
import { codePointLength, isChannelAddress, stripControlChars } from '../../domain/sanitize.js';
import type { DeliveryStatus, InboundMessage } from '../../domain/types.js';
import { inboundContent, location, media } from './inbound-content.js';
import { channelMetadata, externalUserId, messageContext, rawReferral } from './inbound-context.js';
import { single, text, type FormParams } from './params.js';

export type { FormParams } from './params.js';

export const DEFAULT_MAX_INBOUND_LENGTH = 4096;
const MAX_PROFILE_NAME = 256;
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

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
      `Twilio ${key} is not a WhatsApp address (whatsapp:+E164 or a business-scoped id like whatsapp:CO.123)`,
    );
  }
  return value;
}

/** Params kept in metadata under these names, as other code (and the admin) has always read them. */
const METADATA_FIELDS: Array<[string, string]> = [
  ['waId', 'WaId'],
  ['messageType', 'MessageType'],
  ['buttonPayload', 'ButtonPayload'],
  ['buttonText', 'ButtonText'],
  ['originalRepliedMessageSid', 'OriginalRepliedMessageSid'],
  ['originalRepliedMessageSender', 'OriginalRepliedMessageSender'],
  ['externalUserId', 'ExternalUserId'],
  ['accountSid', 'AccountSid'],
  ['messagingServiceSid', 'MessagingServiceSid'],
];

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
  // Twilio sends Body= for media, location and vCard messages and may leave it out: missing is "".
  const body = stripControlChars(single(params, 'Body') ?? '');
  if (codePointLength(body) > maxBodyLength) {
    throw new AppError('invalid_input', `Twilio Body is longer than ${maxBodyLength} characters`);
  }
  const { numMedia, items } = media(params);
  const place = location(params);
  const profileName = text(params, 'ProfileName', MAX_PROFILE_NAME) ?? null;
  const content = inboundContent(params, body, { numMedia, items, place });
  const context = messageContext(params);
  // Only when it differs from From (InboundMessage's contract): a user known only by the scoped id has it as From.
  const scopedId = externalUserId(params);
  const userId = scopedId !== from ? scopedId : undefined;

  const metadata: Record<string, unknown> = { numMedia };
  if (items.length > 0) metadata.media = items;
  if (place) metadata.location = place;
  if (profileName !== null) metadata.profileName = profileName;
  for (const [name, key] of METADATA_FIELDS) {
    const value = text(params, key);
    if (value !== undefined) metadata[name] = value;
  }
  const referral = rawReferral(params);
  if (referral) metadata.referral = referral;
  const channel = channelMetadata(params);
  if (channel) metadata.channelMetadata = channel;

  return {
    channel: 'twilio',
    providerMessageId,
    from,
    to,
    // The quoted text is not known here (it is in the database); the quote line says "an earlier message".
    body: renderForModel(content, context),
    content,
    context,
    ...(userId !== undefined ? { userId } : {}),
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
