/**
 * A verified Meta webhook body → the events it carries (wire facts §5.3–§5.4): every `entry[]`, every
 * `changes[]` with `field: messages`, each value's messages and statuses, with the phone number id they are for.
 * What cannot be stored (a message without an id or a sender) is left out with a reason the route logs; it is
 * never an error for the whole POST, because Meta would redeliver the same body for days.
 */
import { AppError } from '../../domain/errors.js';
import { renderForModel } from '../../domain/render-content.js';
import type { InboundMessage } from '../../domain/types.js';
import { metaSender } from './identity.js';
import { metaContent } from './inbound-content.js';
import { metaContextMetadata, metaMessageContext } from './inbound-context.js';
import { array, isObject, object, providerId, raw, text, type Json } from './json.js';
import { parseMetaStatus, type MetaStatusUpdate } from './statuses.js';

/** The events of one `changes[].value`: all for one of our phone number ids. */
export interface MetaChange {
  phoneNumberId: string;
  messages: InboundMessage[];
  statuses: MetaStatusUpdate[];
}

export interface MetaWebhookEvents {
  /** `whatsapp_business_account` for WhatsApp; anything else carries nothing for us. */
  object: string | undefined;
  changes: MetaChange[];
  /** Why something was left out (another field, a message without an id, …): for one log line. */
  skipped: string[];
}

/** Parse a body that is JSON already. Throws AppError('invalid_input') only when it is not a JSON object. */
export function parseMetaWebhook(body: unknown): MetaWebhookEvents {
  if (!isObject(body)) throw new AppError('invalid_input', 'Meta webhook body is not a JSON object');
  const result: MetaWebhookEvents = { object: text(body, 'object', 100), changes: [], skipped: [] };
  if (result.object !== 'whatsapp_business_account') {
    result.skipped.push(`object "${result.object ?? ''}" is not whatsapp_business_account`);
    return result;
  }
  for (const entry of array(body, 'entry')) {
    for (const change of array(entry, 'changes')) {
      const field = text(change, 'field', 100);
      if (field !== 'messages') {
        result.skipped.push(`field "${field ?? ''}"`);
        continue;
      }
      const parsed = parseChange(object(change, 'value'), result.skipped);
      if (parsed) result.changes.push(parsed);
    }
  }
  return result;
}

function parseChange(value: Json | undefined, skipped: string[]): MetaChange | undefined {
  const metadata = object(value, 'metadata');
  const phoneNumberId = providerId(metadata, 'phone_number_id');
  if (!value || phoneNumberId === undefined) {
    skipped.push('a change without metadata.phone_number_id');
    return undefined;
  }
  const display = text(metadata, 'display_phone_number', 32);
  const contacts = array(value, 'contacts');
  const change: MetaChange = { phoneNumberId, messages: [], statuses: [] };
  for (const item of array(value, 'messages')) {
    const message = isObject(item) ? parseMessage(item, contacts, phoneNumberId, display) : undefined;
    if (typeof message === 'string') skipped.push(message);
    else if (message === undefined) skipped.push('a message that is not an object');
    else change.messages.push(message);
  }
  for (const item of array(value, 'statuses')) {
    const status = parseMetaStatus(item);
    if (status.ok) change.statuses.push(status.update);
    else skipped.push(status.reason);
  }
  return change;
}

/** The message, or why it cannot be stored. */
function parseMessage(
  message: Json,
  contacts: unknown[],
  phoneNumberId: string,
  displayPhoneNumber: string | undefined,
): InboundMessage | string {
  const providerMessageId = providerId(message, 'id');
  if (providerMessageId === undefined) return 'a message without an id';
  const sender = metaSender(message, contacts);
  if (!sender) return `message ${providerMessageId} has neither a phone number nor a user id`;
  const { content, metadata: contentMetadata } = metaContent(message);
  const context = metaMessageContext(message);
  const timestamp = raw(message, 'timestamp');
  const metadata: Record<string, unknown> = {
    messageType: text(message, 'type', 40) ?? 'unknown',
    phoneNumberId,
    ...(displayPhoneNumber !== undefined ? { displayPhoneNumber } : {}),
    ...(timestamp !== undefined && /^\d{1,12}$/.test(timestamp) ? { timestamp } : {}),
    ...(sender.profileName !== null ? { profileName: sender.profileName } : {}),
    ...sender.metadata,
    ...contentMetadata,
    ...metaContextMetadata(message),
  };
  return {
    channel: 'meta',
    providerMessageId,
    from: sender.from,
    to: phoneNumberId,
    // The quoted text is not known here (it is in the database); the quote line says "an earlier message".
    body: renderForModel(content, context),
    content,
    context,
    ...(sender.userId !== undefined ? { userId: sender.userId } : {}),
    profileName: sender.profileName,
    metadata,
  };
}
