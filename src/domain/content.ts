/**
 * What a message carries, in and out: one tagged union for every channel. Channels parse their wire format into
 * it (channels/<name>/inbound.ts) and send from it; the model, the admin and the simulator each read one text
 * rendering of it (domain/render-content.ts), so no turn is ever empty.
 */

export type MediaKind = 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker';

export interface MediaItem {
  kind: MediaKind;
  /** MIME type as the provider gave it (`audio/ogg`), or `application/octet-stream` when it gave none. */
  contentType: string;
  /** The provider's reference: Twilio's MediaUrl{N}, Meta's media id, or a public URL for outbound media. */
  reference: string;
  sizeBytes?: number;
  filename?: string;
  /**
   * Filled in by the worker once it downloaded the item (issue #15): where the bytes are kept (media/store.ts key
   * `<message id>/<index>`), their size and the type they really had. Downloaded once: a retry finds this set.
   */
  stored?: { key: string; sizeBytes: number; contentType: string };
  /** Why the worker did not take the item (`too_large`, `type_not_allowed`, `foreign_host`, `gone`, …). */
  refused?: string;
  /** A voice note's or audio file's words, as transcribed; the user's turn for the model. */
  transcript?: string;
  /** The audio's length in seconds as transcription billed it (or as measured/estimated when it did not say). */
  transcriptSeconds?: number;
}

export interface ContactCard {
  /** Formatted full name. */
  name: string;
  phones: string[];
  emails?: string[];
  organization?: string;
}

export type Content =
  | { type: 'text'; text: string }
  | { type: 'media'; items: MediaItem[]; caption?: string }
  | { type: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | {
      type: 'contacts';
      contacts: ContactCard[];
      /** Provider references of the vCard file(s) when the contact came as a file (Twilio `text/vcard`). */
      vcardReferences?: string[];
    }
  | {
      type: 'interactive_reply';
      /** `button`: a quick-reply or template button; `list`: a list-picker row. */
      kind: 'button' | 'list';
      /** The payload/id the business defined: the routing key, never the visible title. */
      id: string;
      /** What the user saw on the button or row. */
      title: string;
      description?: string;
    }
  | {
      type: 'reaction';
      /** null: the user removed their reaction. */
      emoji: string | null;
      /** The provider's id of the message reacted to. */
      targetProviderMessageId: string;
    }
  | {
      type: 'template';
      /** Twilio Content SID (`HX…`) or Meta template name. */
      templateId: string;
      /** Meta's template language (`en_US`); Twilio's Content SID fixes it. */
      language?: string;
      /** Numbered (`"1"`) or named variables, as the template defines them. */
      variables: Record<string, string>;
    }
  | {
      type: 'unsupported';
      /** The provider's own name for what arrived (`MessageType`, Meta's `type`). */
      providerType: string;
      /**
       * What the channel said about it, for a kind the core has no type of its own for (a Meta order, a system
       * notice such as a changed number, the reason Meta could not show a message).
       */
      description?: string;
    };

export type ContentType = Content['type'];

export const CONTENT_TYPES = [
  'text',
  'media',
  'location',
  'contacts',
  'interactive_reply',
  'reaction',
  'template',
  'unsupported',
] as const satisfies readonly ContentType[];

/** The message the user replied to ("quoted"), as the channel names it. */
export interface QuotedMessage {
  providerMessageId: string;
  /** Who wrote the quoted message (our business number, or the user), when the channel says. */
  sender?: string;
}

/** A click-to-WhatsApp ad or post that started the conversation. */
export interface Referral {
  sourceId?: string;
  sourceType?: string;
  sourceUrl?: string;
  headline?: string;
  body?: string;
  ctwaClid?: string;
  mediaUrl?: string;
  mediaContentType?: string;
}

/** Everything around the content that the channel tells us about an inbound message. */
export interface MessageContext {
  quote?: QuotedMessage;
  referral?: Referral;
  /** `once`: forwarded; `frequently`: forwarded many times (WhatsApp's "Forwarded many times"). */
  forwarded?: 'once' | 'frequently';
}

/** What an outbound message may carry. Every channel sends text; the rest depends on its capabilities. */
export type OutboundContent = Extract<Content, { type: 'text' | 'media' | 'template' | 'reaction' }>;
