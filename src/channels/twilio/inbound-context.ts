/**
 * What Twilio says around an inbound message's content (wire facts §1.3, §1.8, §1.9): the quoted message, the
 * click-to-WhatsApp ad, forwarding, ChannelMetadata and the stable user id.
 */
import type { MessageContext, QuotedMessage, Referral } from '../../domain/content.js';
import {
  isBusinessScopedAddress,
  isChannelAddress,
  stripControlChars,
  truncate,
} from '../../domain/sanitize.js';
import { flag, MAX_FIELD, text, type FormParams } from './params.js';

/** Twilio SIDs (`SM…`, `MM…`) and Meta ids seen in replies: letters, digits, a few separators. */
const PROVIDER_ID = /^[A-Za-z0-9._=-]{2,128}$/;
const WHATSAPP_PREFIX = 'whatsapp:';

function quote(params: FormParams): QuotedMessage | undefined {
  const sid = text(params, 'OriginalRepliedMessageSid');
  if (sid === undefined || !PROVIDER_ID.test(sid)) return undefined;
  const sender = text(params, 'OriginalRepliedMessageSender');
  return sender !== undefined && isChannelAddress(sender)
    ? { providerMessageId: sid, sender }
    : { providerMessageId: sid };
}

const REFERRAL_FIELDS: Array<[keyof Referral, string]> = [
  ['sourceId', 'ReferralSourceId'],
  ['sourceType', 'ReferralSourceType'],
  ['sourceUrl', 'ReferralSourceUrl'],
  ['headline', 'ReferralHeadline'],
  ['body', 'ReferralBody'],
  ['ctwaClid', 'ReferralCtwaClid'],
  ['mediaUrl', 'ReferralMediaUrl'],
  ['mediaContentType', 'ReferralMediaContentType'],
];

/** The ad or post, when Twilio names one; ReferralNumMedia=0 comes on every message and says nothing. */
function referral(params: FormParams): Referral | undefined {
  const result: Referral = {};
  for (const [name, key] of REFERRAL_FIELDS) {
    const value = text(params, key);
    if (value !== undefined) result[name] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** Referral* params (click-to-WhatsApp ads), non-empty ones, under their Twilio names (metadata.referral). */
export function rawReferral(params: FormParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const key of Object.keys(params)) {
    if (!key.startsWith('Referral') || !/^Referral\w{1,40}$/.test(key)) continue;
    const value = text(params, key);
    if (value === undefined || (key === 'ReferralNumMedia' && value === '0')) continue;
    result[key] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

export function messageContext(params: FormParams): MessageContext {
  const context: MessageContext = {};
  const quoted = quote(params);
  if (quoted) context.quote = quoted;
  const ad = referral(params);
  if (ad) context.referral = ad;
  if (flag(params, 'FrequentlyForwarded')) context.forwarded = 'frequently';
  else if (flag(params, 'Forwarded')) context.forwarded = 'once';
  return context;
}

/**
 * ExternalUserId as a channel address (`whatsapp:CO.4480491918930694`): captures carry the prefix, older ones
 * did not. Anything that is not a business-scoped id is left out: the stable id keys conversations.
 */
export function externalUserId(params: FormParams): string | undefined {
  const value = text(params, 'ExternalUserId');
  if (value === undefined) return undefined;
  const address = value.startsWith(WHATSAPP_PREFIX) ? value : `${WHATSAPP_PREFIX}${value}`;
  return isBusinessScopedAddress(address) ? address : undefined;
}

const MAX_METADATA_KEYS = 20;

/**
 * ChannelMetadata is a JSON string that is not in Twilio's documented table: informative only. Its
 * `data.context` string values are kept (bounded); anything malformed is dropped, never an error.
 */
export function channelMetadata(params: FormParams): Record<string, string> | undefined {
  const raw = text(params, 'ChannelMetadata', 8 * MAX_FIELD);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const data = isObject(parsed) ? parsed.data : undefined;
  const context = isObject(data) ? data.context : undefined;
  if (!isObject(context)) return undefined;
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(context).slice(0, MAX_METADATA_KEYS)) {
    if (typeof value !== 'string' || !/^\w{1,40}$/.test(key)) continue;
    result[key] = truncate(stripControlChars(value), MAX_FIELD);
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
