/**
 * What Meta says around a message's content (wire facts §5.3): the quoted message (`context.id`), forwarding
 * flags, the click-to-WhatsApp ad (`referral`) and the product asked about (`context.referred_product`).
 */
import type { MessageContext, Referral } from '../../domain/content.js';
import { object, providerId, raw, text, type Json } from './json.js';

/** `context` of a quoted reply, an interactive reply, or the target of a reaction (so its text can be shown). */
export function metaMessageContext(message: Json): MessageContext {
  const result: MessageContext = {};
  const context = object(message, 'context');
  const quoted = providerId(context, 'id') ?? reactionTarget(message);
  if (quoted !== undefined) {
    const from = raw(context, 'from');
    result.quote =
      from !== undefined && /^\d{6,15}$/.test(from)
        ? { providerMessageId: quoted, sender: `+${from}` }
        : { providerMessageId: quoted };
  }
  if (context?.frequently_forwarded === true) result.forwarded = 'frequently';
  else if (context?.forwarded === true) result.forwarded = 'once';
  const ad = referral(message);
  if (ad) result.referral = ad;
  return result;
}

/** A reaction names its target in `reaction.message_id`, not in `context`: the core reads both as the quote. */
function reactionTarget(message: Json): string | undefined {
  return raw(message, 'type') === 'reaction'
    ? providerId(object(message, 'reaction'), 'message_id')
    : undefined;
}

const REFERRAL_FIELDS: Array<[keyof Referral, string]> = [
  ['sourceId', 'source_id'],
  ['sourceType', 'source_type'],
  ['sourceUrl', 'source_url'],
  ['headline', 'headline'],
  ['body', 'body'],
  ['ctwaClid', 'ctwa_clid'],
];

function referral(message: Json): Referral | undefined {
  const ad = object(message, 'referral');
  if (!ad) return undefined;
  const result: Referral = {};
  for (const [name, key] of REFERRAL_FIELDS) {
    const value = text(ad, key);
    if (value !== undefined) result[name] = value;
  }
  const mediaUrl = text(ad, 'image_url', 2048) ?? text(ad, 'video_url', 2048);
  if (mediaUrl !== undefined) result.mediaUrl = mediaUrl;
  return Object.keys(result).length > 0 ? result : undefined;
}

/** What the context holds beyond the core's shape, kept in metadata: the ad's extras, the product asked about. */
export function metaContextMetadata(message: Json): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  const ad = object(message, 'referral');
  const mediaType = text(ad, 'media_type', 40);
  const thumbnail = text(ad, 'thumbnail_url', 2048);
  const welcome = text(object(ad, 'welcome_message'), 'text');
  const extras = {
    ...(mediaType !== undefined ? { mediaType } : {}),
    ...(thumbnail !== undefined ? { thumbnailUrl: thumbnail } : {}),
    ...(welcome !== undefined ? { welcomeMessage: welcome } : {}),
  };
  if (Object.keys(extras).length > 0) metadata.referralExtras = extras;
  const product = object(object(message, 'context'), 'referred_product');
  const catalogId = text(product, 'catalog_id', 128);
  const productId = text(product, 'product_retailer_id', 128);
  if (catalogId !== undefined || productId !== undefined)
    metadata.referredProduct = {
      ...(catalogId !== undefined ? { catalogId } : {}),
      ...(productId !== undefined ? { productRetailerId: productId } : {}),
    };
  return metadata;
}
