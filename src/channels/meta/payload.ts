/**
 * One outbound message as the JSON body of `POST /{phone-number-id}/messages` (wire facts §5.5): text, a template
 * (name, language, body parameters), one media item by link or media id, or a reaction. Pure: tested on its own
 * and by the fake Graph API, which checks the same shapes.
 */
import type { MediaItem, OutboundContent } from '../../domain/content.js';
import { AppError } from '../../domain/errors.js';
import type { OutboundMessage } from '../../ports.js';

type Json = Record<string, unknown>;

/** Meta's `to`: the digits (a leading + is accepted) or a business-scoped user id, without our `whatsapp:` prefix. */
export function metaRecipient(address: string): string {
  return address.replace(/^whatsapp:/, '');
}

/** The request body for `message`; `partId` goes as biz_opaque_callback_data, which Meta echoes in statuses. */
export function messagePayload(message: OutboundMessage): Json {
  const content: OutboundContent = message.content ?? { type: 'text', text: message.body };
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: metaRecipient(message.to),
    ...(message.quotedMessageId ? { context: { message_id: message.quotedMessageId } } : {}),
    ...contentFields(content),
    ...(message.partId ? { biz_opaque_callback_data: message.partId } : {}),
  };
}

function contentFields(content: OutboundContent): Json {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: { preview_url: false, body: content.text } };
    case 'media': {
      const [item, ...more] = content.items;
      // One media item per Cloud API message; Twilio's several MediaUrls have no equivalent.
      if (!item || more.length > 0)
        throw new AppError(
          'channel_unsupported',
          `Meta sends one media item per message, not ${content.items.length}`,
        );
      return mediaFields(item, content.caption);
    }
    case 'template':
      return { type: 'template', template: templateFields(content) };
    case 'reaction':
      // An empty emoji removes our reaction.
      return {
        type: 'reaction',
        reaction: { message_id: content.targetProviderMessageId, emoji: content.emoji ?? '' },
      };
  }
}

/** Which Cloud API type carries each kind, and whether it takes a caption. */
const MEDIA_TYPES: Record<MediaItem['kind'], { type: string; caption: boolean }> = {
  image: { type: 'image', caption: true },
  video: { type: 'video', caption: true },
  document: { type: 'document', caption: true },
  audio: { type: 'audio', caption: false },
  voice: { type: 'audio', caption: false },
  sticker: { type: 'sticker', caption: false },
};

function mediaFields(item: MediaItem, caption: string | undefined): Json {
  const { type, caption: takesCaption } = MEDIA_TYPES[item.kind];
  if (caption && !takesCaption)
    throw new AppError('channel_unsupported', `Meta sends no caption with ${item.kind} messages`);
  // A public URL goes as `link`; anything else is a media id uploaded to (or received from) Meta.
  const source = /^https?:\/\//i.test(item.reference) ? { link: item.reference } : { id: item.reference };
  return {
    type,
    [type]: {
      ...source,
      ...(caption ? { caption } : {}),
      ...(type === 'document' && item.filename ? { filename: item.filename } : {}),
    },
  };
}

type Template = Extract<OutboundContent, { type: 'template' }>;

/** Meta's default language code when a template names none. */
export const DEFAULT_TEMPLATE_LANGUAGE = 'en_US';

/**
 * Numbered variables ({"1": …, "2": …}) are the body's positional parameters, in number order; named ones
 * go with their `parameter_name` (templates created with named parameters).
 */
function templateFields(template: Template): Json {
  const entries = Object.entries(template.variables);
  const numbered = entries.every(([name]) => /^\d+$/.test(name));
  const parameters = numbered
    ? entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, text]) => ({ type: 'text', text }))
    : entries.map(([name, text]) => ({ type: 'text', parameter_name: name, text }));
  return {
    name: template.templateId,
    language: { code: template.language ?? DEFAULT_TEMPLATE_LANGUAGE },
    ...(parameters.length > 0 ? { components: [{ type: 'body', parameters }] } : {}),
  };
}
