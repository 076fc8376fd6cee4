/**
 * Meta WhatsApp Cloud API webhooks as Meta posts them (wire facts §5.3–§5.4): envelopes, messages and statuses
 * built from the documented payloads, serialised with non-ASCII escaped as `\uXXXX` (as Meta does), and signed
 * over those exact bytes with node's own HMAC, independently of the code under test.
 */
import crypto from 'node:crypto';

export const TEST_PHONE_NUMBER_ID = '106540352242922';
export const TEST_DISPLAY_PHONE_NUMBER = '15550783881';
export const TEST_APP_SECRET = 'test-meta-app-secret-0123456789abcdef';
export const TEST_VERIFY_TOKEN = 'test-meta-verify-token';
export const TEST_ACCESS_TOKEN = 'EAAtest-meta-access-token';

export type MetaJson = Record<string, unknown>;

/** `X-Hub-Signature-256` for `rawBody` signed with `appSecret`: `sha256=` and lowercase hex. */
export function signMetaBody(appSecret: string, rawBody: string | Buffer): string {
  return `sha256=${crypto.createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/** JSON as Meta writes it: every character outside ASCII escaped as `\uXXXX` with lowercase hex digits. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A fresh wamid, shaped like Meta's (`wamid.` and base64). */
export function randomWamid(): string {
  return `wamid.${crypto.randomBytes(24).toString('base64').replace(/[+/=]/g, 'A')}`;
}

/** A random user's wa_id (digits, no `+`) in the fictional 555 range. */
export function randomWaId(): string {
  return `1650555${String(crypto.randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

/** A random business-scoped user id, as Meta writes it (`US.<digits>`). */
export function randomBsuid(): string {
  return `US.${crypto.randomInt(1e9, 9e9)}${crypto.randomInt(1e6, 9e6)}`;
}

export interface ChangeInput {
  phoneNumberId?: string;
  contacts?: MetaJson[];
  messages?: MetaJson[];
  statuses?: MetaJson[];
  field?: string;
}

/** One `changes[]` item. */
export function metaChange(input: ChangeInput): MetaJson {
  const value: MetaJson = {
    messaging_product: 'whatsapp',
    metadata: {
      display_phone_number: TEST_DISPLAY_PHONE_NUMBER,
      phone_number_id: input.phoneNumberId ?? TEST_PHONE_NUMBER_ID,
    },
  };
  if (input.contacts) value.contacts = input.contacts;
  if (input.messages) value.messages = input.messages;
  if (input.statuses) value.statuses = input.statuses;
  return { field: input.field ?? 'messages', value };
}

/** The whole POST body: entries of changes (one entry with one change when given one change). */
export function metaEnvelope(entries: MetaJson[][]): MetaJson {
  return {
    object: 'whatsapp_business_account',
    entry: entries.map((changes, index) => ({ id: `10200000000000${index}`, changes })),
  };
}

/** `contacts[]` entry for a sender: phone, BSUID, or both. */
export function metaContact(input: {
  waId?: string;
  userId?: string;
  name?: string;
  username?: string;
}): MetaJson {
  return {
    profile: {
      name: input.name ?? 'Sheena Nelson',
      ...(input.username !== undefined ? { username: input.username } : {}),
    },
    wa_id: input.waId ?? '',
    ...(input.userId !== undefined ? { user_id: input.userId } : {}),
  };
}

/** A message of `type` with its per-type object; `from` is the wa_id ("" for a BSUID-only user). */
export function metaMessage(
  type: string,
  fields: MetaJson,
  sender: { waId?: string; userId?: string } = {},
  id = randomWamid(),
): MetaJson {
  return {
    from: sender.waId ?? '',
    ...(sender.userId !== undefined ? { from_user_id: sender.userId } : {}),
    id,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type,
    ...fields,
  };
}

export function metaText(body: string, sender: { waId?: string; userId?: string }, id?: string): MetaJson {
  return metaMessage('text', { text: { body } }, sender, id);
}

/** A `statuses[]` item; `failed` carries `errors[]` and no conversation/pricing, as Meta sends it. */
export function metaStatus(input: {
  id: string;
  status: string;
  recipientId?: string;
  errorCode?: number;
  partId?: string;
}): MetaJson {
  const base: MetaJson = {
    id: input.id,
    status: input.status,
    timestamp: String(Math.floor(Date.now() / 1000)),
    recipient_id: input.recipientId ?? '16505551234',
    ...(input.partId !== undefined ? { biz_opaque_callback_data: input.partId } : {}),
  };
  if (input.status === 'failed')
    return {
      ...base,
      errors: [
        {
          code: input.errorCode ?? 131026,
          title: 'Message undeliverable',
          message: 'Message undeliverable',
          error_data: { details: 'Message Undeliverable.' },
          href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
        },
      ],
    };
  return {
    ...base,
    conversation: { id: 'c0ffee', origin: { type: 'service' } },
    pricing: { billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' },
  };
}

/** Headers of a POST Meta signed with `appSecret` (or with the given signature header, or none). */
export function metaHeaders(
  rawBody: string,
  options: { appSecret?: string; signature?: string | null } = {},
): Record<string, string> {
  const signature =
    options.signature === undefined
      ? signMetaBody(options.appSecret ?? TEST_APP_SECRET, rawBody)
      : options.signature;
  return {
    'content-type': 'application/json',
    ...(signature !== null ? { 'x-hub-signature-256': signature } : {}),
  };
}
