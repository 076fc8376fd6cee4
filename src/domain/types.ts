import type { Content, MessageContext } from './content.js';

/** Which channel a conversation lives on. The conversation key is (channel, userAddress). */
export const CHANNEL_NAMES = ['twilio', 'meta', 'simulator'] as const;

export type ChannelName = (typeof CHANNEL_NAMES)[number];

export type Role = 'user' | 'assistant' | 'system';

/** A message as the channel delivered it, after parsing and validation. */
export interface InboundMessage {
  channel: ChannelName;
  /** The channel's id for this message (Twilio MessageSid, Meta wamid): unique, used for deduplication. */
  providerMessageId: string;
  /** Raw sender address as the channel gives it (`whatsapp:+14155550100` or a business-scoped id). */
  from: string;
  /** Our business address the user wrote to (`whatsapp:+14155238886`). */
  to: string;
  /** What the user sent. */
  content: Content;
  /** Quote, referral, forwarding: what the channel says around the content. */
  context: MessageContext;
  /**
   * The content's text rendering for the model (domain/render-content.ts); never empty. Stored as the message's
   * `content` column, which the context window and the admin's search read.
   */
  body: string;
  /**
   * The person's stable id on the channel when it differs from `from` (Twilio ExternalUserId, Meta's
   * business-scoped user id). Conversations are keyed on it when present, so a user who moves from a phone
   * number to a scoped id keeps one conversation; replies still go to `from`.
   */
  userId?: string;
  profileName: string | null;
  /** Everything else worth keeping (media, location, button payload, referral, …). */
  metadata: Record<string, unknown>;
}

/** One turn of a conversation's context, as the model sees it. */
export interface Turn {
  /** Message id in the database; keeps context entries unique and ordered. */
  id: string;
  role: Role;
  content: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** One message of a model's input: the prompt is built in the domain (prompt.ts), the ChatModel port sends it. */
export interface ChatMessage {
  role: Role;
  content: string;
  /**
   * Images the user sent with this turn (issue #15), already downscaled, for a model that can see them: the
   * adapters turn each into the provider's image part beside `content` (OpenAI `image_url` data URL, Anthropic
   * base64 `image` block). Only on user turns; history keeps text renderings, never bytes.
   */
  images?: ChatImage[];
}

export interface ChatImage {
  /** image/jpeg, image/png, image/webp … */
  contentType: string;
  /** The bytes, base64. */
  base64: string;
}

/** A function the model may call instead of (or beside) answering: its name and its arguments' JSON Schema. */
export interface ToolDefinition {
  name: string;
  /** What the tool does and when to call it, for the model. */
  description: string;
  /** JSON Schema of the arguments, an object schema (`{ type: 'object', properties, required }`). */
  parameters: Record<string, unknown>;
}

/** A call the model asked for; `arguments` parsed from the provider's JSON (an empty object if it sent none). */
export interface ToolCall {
  /** The provider's id of the call, for answering it in a later turn (a tool loop). */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Twilio's delivery states (Meta's map onto them); `pending` and `sending` are ours, before the API answered. */
export type DeliveryStatus =
  | 'pending'
  | 'sending'
  | 'queued'
  | 'accepted'
  | 'scheduled'
  | 'sent'
  | 'failed'
  | 'undelivered'
  | 'delivered'
  | 'read'
  | 'canceled'
  | 'unknown';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}
