/** Every message type of wire facts §5.3 → typed content, as the Meta webhook parser maps it. */
import { describe, expect, it } from 'vitest';
import { parseMetaWebhook } from '../../../src/channels/meta/inbound.js';
import type { Content, MessageContext } from '../../../src/domain/content.js';
import { renderForModel, summarize } from '../../../src/domain/render-content.js';
import type { InboundMessage } from '../../../src/domain/types.js';
import { metaChange, metaContact, metaEnvelope, metaMessage, type MetaJson } from '../../helpers/meta.js';

const WA_ID = '16505551234';
const QUOTED = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNjQ5QjZFMkJFQzZBNzZBNjgA';

function parseOne(message: MetaJson): InboundMessage {
  const events = parseMetaWebhook(
    metaEnvelope([[metaChange({ contacts: [metaContact({ waId: WA_ID })], messages: [message] })]]),
  );
  const parsed = events.changes[0]?.messages[0];
  if (!parsed) throw new Error(`not parsed: ${events.skipped.join('; ')}`);
  return parsed;
}

interface Case {
  name: string;
  type: string;
  fields: MetaJson;
  content: Content;
  context?: MessageContext;
  metadata?: Record<string, unknown>;
  /** A piece of the model's rendering. */
  renders: string;
}

const CASES: Case[] = [
  {
    name: 'text',
    type: 'text',
    fields: { text: { body: 'Does it come in another color?' } },
    content: { type: 'text', text: 'Does it come in another color?' },
    renders: 'Does it come in another color?',
  },
  {
    name: 'image with caption',
    type: 'image',
    fields: {
      image: { caption: 'my receipt', mime_type: 'image/jpeg', sha256: 'abc=', id: '1003383421387256' },
    },
    content: {
      type: 'media',
      items: [{ kind: 'image', contentType: 'image/jpeg', reference: '1003383421387256' }],
      caption: 'my receipt',
    },
    metadata: { media: [{ id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'abc=' }] },
    renders: '[Image (image/jpeg)]\nmy receipt',
  },
  {
    name: 'video',
    type: 'video',
    fields: { video: { mime_type: 'video/mp4', sha256: 'v=', id: '2001' } },
    content: { type: 'media', items: [{ kind: 'video', contentType: 'video/mp4', reference: '2001' }] },
    renders: '[Video (video/mp4)]',
  },
  {
    name: 'document with filename',
    type: 'document',
    fields: {
      document: {
        filename: 'invoice.pdf',
        caption: 'see this',
        mime_type: 'application/pdf',
        sha256: 'd=',
        id: '3001',
      },
    },
    content: {
      type: 'media',
      items: [
        { kind: 'document', contentType: 'application/pdf', reference: '3001', filename: 'invoice.pdf' },
      ],
      caption: 'see this',
    },
    renders: '[Document "invoice.pdf" (application/pdf)]',
  },
  {
    name: 'sticker',
    type: 'sticker',
    fields: { sticker: { mime_type: 'image/webp', sha256: 's=', id: '4001', animated: false } },
    content: { type: 'media', items: [{ kind: 'sticker', contentType: 'image/webp', reference: '4001' }] },
    renders: '[Sticker (image/webp)]',
  },
  {
    name: 'voice note (voice: true)',
    type: 'audio',
    fields: { audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'a=', id: '5001', voice: true } },
    content: { type: 'media', items: [{ kind: 'voice', contentType: 'audio/ogg', reference: '5001' }] },
    metadata: { media: [{ id: '5001', mimeType: 'audio/ogg; codecs=opus', sha256: 'a=', voice: true }] },
    renders: '[Voice message (audio/ogg)]',
  },
  {
    name: 'audio file (voice: false)',
    type: 'audio',
    fields: { audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'a=', id: '5002', voice: false } },
    content: { type: 'media', items: [{ kind: 'audio', contentType: 'audio/ogg', reference: '5002' }] },
    renders: '[Audio (audio/ogg)]',
  },
  {
    name: 'location',
    type: 'location',
    fields: {
      location: {
        latitude: 51.5,
        longitude: -0.12,
        name: 'The Club',
        address: '1 Road',
        url: 'https://x.example',
      },
    },
    content: { type: 'location', latitude: 51.5, longitude: -0.12, name: 'The Club', address: '1 Road' },
    metadata: { locationUrl: 'https://x.example' },
    renders: '[Shared location: The Club, 1 Road, coordinates 51.5, -0.12]',
  },
  {
    name: 'contacts',
    type: 'contacts',
    fields: {
      contacts: [
        {
          name: { formatted_name: 'Ana Ruiz', first_name: 'Ana' },
          phones: [{ phone: '+34 600 000 000', wa_id: '34600000000', type: 'CELL' }],
          emails: [{ email: 'ana@example.com', type: 'WORK' }],
          org: { company: 'ACME' },
        },
      ],
    },
    content: {
      type: 'contacts',
      contacts: [
        { name: 'Ana Ruiz', phones: ['+34 600 000 000'], emails: ['ana@example.com'], organization: 'ACME' },
      ],
    },
    renders: '[Contact card: Ana Ruiz, +34 600 000 000, ana@example.com (ACME)]',
  },
  {
    name: 'interactive button reply',
    type: 'interactive',
    fields: {
      context: { from: '15550783881', id: QUOTED },
      interactive: { type: 'button_reply', button_reply: { id: 'yes-1', title: 'Yes' } },
    },
    content: { type: 'interactive_reply', kind: 'button', id: 'yes-1', title: 'Yes' },
    context: { quote: { providerMessageId: QUOTED, sender: '+15550783881' } },
    renders: '[Tapped the button "Yes" (payload: yes-1)]',
  },
  {
    name: 'interactive list reply',
    type: 'interactive',
    fields: {
      context: { from: '15550783881', id: QUOTED },
      interactive: {
        type: 'list_reply',
        list_reply: { id: 'row-2', title: 'Blue', description: 'Navy blue' },
      },
    },
    content: {
      type: 'interactive_reply',
      kind: 'list',
      id: 'row-2',
      title: 'Blue',
      description: 'Navy blue',
    },
    context: { quote: { providerMessageId: QUOTED, sender: '+15550783881' } },
    renders: '[Chose the list item "Blue", "Navy blue" (payload: row-2)]',
  },
  {
    name: 'a Flow answer (nfm_reply)',
    type: 'interactive',
    fields: { interactive: { type: 'nfm_reply', nfm_reply: { response_json: '{}', name: 'flow' } } },
    content: { type: 'unsupported', providerType: 'interactive.nfm_reply' },
    renders: '[A message of type "interactive.nfm_reply", which cannot be read here]',
  },
  {
    name: 'template quick reply (button)',
    type: 'button',
    fields: {
      context: { from: '15550783881', id: QUOTED },
      button: { payload: 'STOP_PROMOS', text: 'Stop promotions' },
    },
    content: { type: 'interactive_reply', kind: 'button', id: 'STOP_PROMOS', title: 'Stop promotions' },
    context: { quote: { providerMessageId: QUOTED, sender: '+15550783881' } },
    renders: '[Tapped the button "Stop promotions" (payload: STOP_PROMOS)]',
  },
  {
    name: 'reaction',
    type: 'reaction',
    fields: { reaction: { message_id: QUOTED, emoji: '👍' } },
    content: { type: 'reaction', emoji: '👍', targetProviderMessageId: QUOTED },
    context: { quote: { providerMessageId: QUOTED } },
    renders: '[Reacted 👍 to an earlier message]',
  },
  {
    name: 'reaction removed (emoji omitted)',
    type: 'reaction',
    fields: { reaction: { message_id: QUOTED } },
    content: { type: 'reaction', emoji: null, targetProviderMessageId: QUOTED },
    context: { quote: { providerMessageId: QUOTED } },
    renders: '[Removed their reaction to an earlier message]',
  },
  {
    name: 'order',
    type: 'order',
    fields: {
      order: {
        catalog_id: 'cat-1',
        text: 'fast please',
        product_items: [{ product_retailer_id: 'SKU-1', quantity: 2, item_price: 9.99, currency: 'USD' }],
      },
    },
    content: {
      type: 'unsupported',
      providerType: 'order',
      description: 'an order of 1 product: 2 × SKU-1 at 9.99 USD; note: "fast please"',
    },
    metadata: {
      order: {
        catalogId: 'cat-1',
        items: [{ productRetailerId: 'SKU-1', quantity: 2, itemPrice: 9.99, currency: 'USD' }],
        note: 'fast please',
      },
    },
    renders: '[A message of type "order": an order of 1 product: 2 × SKU-1 at 9.99 USD; note: "fast please"]',
  },
  {
    name: 'system: user changed number',
    type: 'system',
    fields: {
      system: {
        body: 'User A changed from 16505551234 to 16505559999',
        wa_id: '16505559999',
        type: 'user_changed_number',
      },
    },
    content: {
      type: 'unsupported',
      providerType: 'system.user_changed_number',
      description: 'WhatsApp notice: User A changed from 16505551234 to 16505559999',
    },
    metadata: { system: { type: 'user_changed_number', waId: '16505559999' } },
    renders: 'WhatsApp notice: User A changed from 16505551234 to 16505559999',
  },
  {
    name: 'unsupported (an edit) with errors',
    type: 'unsupported',
    fields: {
      unsupported: { type: 'edit' },
      errors: [
        {
          code: 131051,
          title: 'Message type unknown',
          error_data: { details: 'Message type is not supported' },
        },
      ],
    },
    content: { type: 'unsupported', providerType: 'edit', description: 'Message type unknown' },
    metadata: {
      errors: [{ code: '131051', title: 'Message type unknown', details: 'Message type is not supported' }],
    },
    renders: '[A message of type "edit": Message type unknown]',
  },
  {
    name: 'a type nobody knows yet',
    type: 'poll',
    fields: { poll: { question: '?' } },
    content: { type: 'unsupported', providerType: 'poll' },
    renders: '[A message of type "poll", which cannot be read here]',
  },
];

describe('Meta message types onto typed content', () => {
  it.each(CASES)('$name', (testCase) => {
    const message = parseOne(metaMessage(testCase.type, testCase.fields, { waId: WA_ID }));
    expect(message.content).toEqual(testCase.content);
    expect(message.context).toEqual(testCase.context ?? {});
    expect(message.metadata).toMatchObject({ messageType: testCase.type, ...testCase.metadata });
    // Never an empty turn, and the body is the one rendering the core uses.
    expect(message.body).toBe(renderForModel(message.content, message.context));
    expect(message.body).toContain(testCase.renders);
    expect(summarize(message.content).trim()).not.toBe('');
  });

  it('keeps forwarding flags, and a quote only when context names a message', () => {
    const once = parseOne(
      metaMessage('text', { text: { body: 'fwd' }, context: { forwarded: true } }, { waId: WA_ID }),
    );
    expect(once.context).toEqual({ forwarded: 'once' });
    expect(once.body).toBe('[Forwarded]\nfwd');
    const many = parseOne(
      metaMessage(
        'text',
        { text: { body: 'fwd' }, context: { frequently_forwarded: true, forwarded: true } },
        { waId: WA_ID },
      ),
    );
    expect(many.context).toEqual({ forwarded: 'frequently' });
  });

  it('reads a quoted reply’s context as the core’s quote', () => {
    const reply = parseOne(
      metaMessage(
        'text',
        { text: { body: 'this one' }, context: { from: WA_ID, id: QUOTED } },
        { waId: WA_ID },
      ),
    );
    expect(reply.context.quote).toEqual({ providerMessageId: QUOTED, sender: `+${WA_ID}` });
    expect(reply.body).toBe('[Replying to an earlier message]\nthis one');
  });

  it('reads a click-to-WhatsApp referral and the product asked about', () => {
    const message = parseOne(
      metaMessage(
        'text',
        {
          text: { body: 'Is this still available?' },
          context: { referred_product: { catalog_id: 'cat-1', product_retailer_id: 'SKU-9' } },
          referral: {
            source_url: 'https://fb.me/abc',
            source_id: '120000',
            source_type: 'ad',
            body: 'Spring sale body',
            headline: 'Spring sale',
            media_type: 'image',
            image_url: 'https://example.com/ad.jpg',
            ctwa_clid: 'ARAkLkA',
            welcome_message: { text: 'Hi there!' },
          },
        },
        { waId: WA_ID },
      ),
    );
    expect(message.context.referral).toEqual({
      sourceUrl: 'https://fb.me/abc',
      sourceId: '120000',
      sourceType: 'ad',
      body: 'Spring sale body',
      headline: 'Spring sale',
      mediaUrl: 'https://example.com/ad.jpg',
      ctwaClid: 'ARAkLkA',
    });
    expect(message.metadata).toMatchObject({
      referralExtras: { mediaType: 'image', welcomeMessage: 'Hi there!' },
      referredProduct: { catalogId: 'cat-1', productRetailerId: 'SKU-9' },
    });
    expect(message.body).toBe('[Came from ad "Spring sale"]\nIs this still available?');
  });

  it('strips control characters from text and keeps emoji', () => {
    const message = parseOne(metaMessage('text', { text: { body: 'a\u0000b\r\nc 😀' } }, { waId: WA_ID }));
    expect(message.content).toEqual({ type: 'text', text: 'ab\nc 😀' });
  });

  it('never makes an empty turn of a message without its object', () => {
    for (const type of ['text', 'image', 'location', 'contacts', 'reaction', 'button', 'interactive']) {
      const message = parseOne(metaMessage(type, {}, { waId: WA_ID }));
      expect(message.content.type).toBe('unsupported');
      expect(message.body.trim()).not.toBe('');
    }
  });
});
