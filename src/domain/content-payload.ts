/**
 * A stored message's `payload` column (`{ content, context }`, jsonb) read back as Content + MessageContext. Old
 * rows have no payload, and a row written by a newer version may hold a kind this one does not know: both read as
 * the text of the `content` column, so a page never fails on a row.
 */
import { CONTENT_TYPES, type Content, type MessageContext } from './content.js';
import { MEDIA_LABELS } from './render-content.js';

export interface StoredContent {
  content: Content;
  context: MessageContext;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The fields each kind cannot do without; the rest is optional and checked where it is read. */
function wellFormed(content: Json): boolean {
  switch (content.type as Content['type']) {
    case 'text':
      return isString(content.text);
    case 'media':
      return (
        Array.isArray(content.items) &&
        content.items.every(
          (item) =>
            isObject(item) &&
            isString(item.kind) &&
            Object.hasOwn(MEDIA_LABELS, item.kind) &&
            isString(item.contentType) &&
            isString(item.reference),
        )
      );
    case 'location':
      return isNumber(content.latitude) && isNumber(content.longitude);
    case 'contacts':
      return (
        Array.isArray(content.contacts) &&
        content.contacts.every((card) => isObject(card) && isString(card.name) && isStringArray(card.phones))
      );
    case 'interactive_reply':
      return (
        isString(content.id) &&
        isString(content.title) &&
        (content.kind === 'button' || content.kind === 'list')
      );
    case 'reaction':
      return (content.emoji === null || isString(content.emoji)) && isString(content.targetProviderMessageId);
    case 'template':
      return isString(content.templateId) && isObject(content.variables);
    case 'unsupported':
      return (
        isString(content.providerType) && (content.description === undefined || isString(content.description))
      );
  }
}

function contextOf(value: unknown): MessageContext {
  if (!isObject(value)) return {};
  const context: MessageContext = {};
  const { quote, referral, forwarded } = value;
  if (isObject(quote) && isString(quote.providerMessageId)) {
    context.quote = isString(quote.sender)
      ? { providerMessageId: quote.providerMessageId, sender: quote.sender }
      : { providerMessageId: quote.providerMessageId };
  }
  if (isObject(referral)) {
    context.referral = Object.fromEntries(Object.entries(referral).filter(([, v]) => isString(v)));
  }
  if (forwarded === 'once' || forwarded === 'frequently') context.forwarded = forwarded;
  return context;
}

/** jsonb as the driver hands it over: node-postgres parses it, PGlite may give the text. */
function parsed(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return null;
  }
}

/** `payload` as stored (null on old rows), `text` the row's `content` column. */
export function storedContent(stored: unknown, text: string): StoredContent {
  const payload = parsed(stored);
  const content = isObject(payload) ? payload.content : undefined;
  if (
    !isObject(content) ||
    !(CONTENT_TYPES as readonly unknown[]).includes(content.type) ||
    !wellFormed(content)
  ) {
    return { content: { type: 'text', text }, context: {} };
  }
  return {
    content: content as unknown as Content,
    context: contextOf(isObject(payload) ? payload.context : undefined),
  };
}
