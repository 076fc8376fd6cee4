import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, type Content, type MessageContext } from '../../src/domain/content.js';
import { renderForModel, summarize } from '../../src/domain/render-content.js';
import { codePointLength } from '../../src/domain/sanitize.js';

const TWILIO_MEDIA = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1';

/** [name, content, context, options, model rendering, summary] */
const cases: Array<[string, Content, MessageContext, { quotedText?: string }, string, string]> = [
  ['text', { type: 'text', text: 'Hola' }, {}, {}, 'Hola', 'Hola'],
  ['blank text', { type: 'text', text: '  \n' }, {}, {}, '[Empty message]', 'Empty message'],
  [
    'image with a caption',
    {
      type: 'media',
      items: [{ kind: 'image', contentType: 'image/jpeg', reference: TWILIO_MEDIA }],
      caption: 'look at this',
    },
    {},
    {},
    '[Image (image/jpeg)]\nlook at this',
    '📷 look at this',
  ],
  [
    'voice note',
    { type: 'media', items: [{ kind: 'voice', contentType: 'audio/ogg', reference: TWILIO_MEDIA }] },
    {},
    {},
    '[Voice message (audio/ogg)]',
    '🎤 Voice message',
  ],
  [
    'document with a file name, and a second item',
    {
      type: 'media',
      items: [
        { kind: 'document', contentType: 'application/pdf', reference: 'r1', filename: 'report.pdf' },
        { kind: 'sticker', contentType: 'image/webp', reference: 'r2' },
      ],
    },
    {},
    {},
    '[Document "report.pdf" (application/pdf)]\n[Sticker (image/webp)]',
    '📄 Document +1',
  ],
  [
    'media whose items could not be read',
    { type: 'media', items: [] },
    {},
    {},
    '[Attachment that could not be read]',
    '📎 Attachment',
  ],
  [
    'location with a name and an address',
    {
      type: 'location',
      latitude: 51.51322977399644,
      longitude: -0.2197976373036567,
      name: 'The Harrow Club',
      address: '187 Freston Road, London',
    },
    {},
    {},
    '[Shared location: The Harrow Club, 187 Freston Road, London, coordinates 51.51322977399644, -0.2197976373036567]',
    '📍 The Harrow Club, 187 Freston Road, London',
  ],
  [
    'dropped pin',
    { type: 'location', latitude: 4.6, longitude: -74.08 },
    {},
    {},
    '[Shared location: coordinates 4.6, -74.08]',
    '📍 Location',
  ],
  [
    'contact card',
    {
      type: 'contacts',
      contacts: [
        { name: 'Ana Ruiz', phones: ['+34600000000'], emails: ['ana@example.com'], organization: 'ACME' },
      ],
    },
    {},
    {},
    '[Contact card: Ana Ruiz, +34600000000, ana@example.com (ACME)]',
    '👤 Ana Ruiz',
  ],
  [
    'vCard file not read',
    { type: 'contacts', contacts: [], vcardReferences: [TWILIO_MEDIA] },
    {},
    {},
    '[Contact card (vCard file); its name and numbers were not read]',
    '👤 Contact card',
  ],
  [
    'tapped button',
    { type: 'interactive_reply', kind: 'button', id: '{verifyEmail:asd@asd.com}', title: 'Konfirmasi' },
    {},
    {},
    '[Tapped the button "Konfirmasi" (payload: {verifyEmail:asd@asd.com})]',
    '🔘 Konfirmasi',
  ],
  [
    'list item',
    { type: 'interactive_reply', kind: 'list', id: 'slot_2', title: 'Tue 10:00', description: 'With Dr. Li' },
    {},
    {},
    '[Chose the list item "Tue 10:00", "With Dr. Li" (payload: slot_2)]',
    '🔘 Tue 10:00',
  ],
  [
    'reaction with the target text',
    { type: 'reaction', emoji: '👍', targetProviderMessageId: 'SM1' },
    { quote: { providerMessageId: 'SM1' } },
    { quotedText: 'Your order ships tomorrow.' },
    '[Reacted 👍 to the message "Your order ships tomorrow."]',
    'Reacted 👍',
  ],
  [
    'removed reaction',
    { type: 'reaction', emoji: null, targetProviderMessageId: 'SM1' },
    {},
    {},
    '[Removed their reaction to an earlier message]',
    'Removed a reaction',
  ],
  [
    'template',
    { type: 'template', templateId: 'HX' + 'a'.repeat(32), variables: { '1': 'Ana', '2': '3pm' } },
    {},
    {},
    `[Template HX${'a'.repeat(32)} with 1=Ana, 2=3pm]`,
    `Template HX${'a'.repeat(32)}`,
  ],
  [
    'unsupported',
    { type: 'unsupported', providerType: 'order' },
    {},
    {},
    '[A message of type "order", which cannot be read here]',
    'Unsupported message (order)',
  ],
  [
    'unsupported, with what the channel said about it',
    {
      type: 'unsupported',
      providerType: 'system.user_changed_number',
      description: 'WhatsApp notice: User A changed\nfrom 1 to 2',
    },
    {},
    {},
    '[A message of type "system.user_changed_number": WhatsApp notice: User A changed from 1 to 2]',
    'system.user_changed_number: WhatsApp notice: User A changed from 1 to 2',
  ],
  [
    'quoted reply with the quoted text',
    { type: 'text', text: 'yes please' },
    { quote: { providerMessageId: 'SM1', sender: 'whatsapp:+14155238886' } },
    { quotedText: 'Shall I book it?\nIt is the last seat.' },
    '[Replying to: "Shall I book it? It is the last seat."]\nyes please',
    'yes please',
  ],
  [
    'quoted reply without the quoted text',
    { type: 'text', text: 'yes' },
    { quote: { providerMessageId: 'SM1' } },
    {},
    '[Replying to an earlier message]\nyes',
    'yes',
  ],
  [
    'forwarded many times, from an ad',
    { type: 'text', text: 'Is this real?' },
    {
      forwarded: 'frequently',
      referral: { sourceType: 'ad', headline: 'Spring sale', sourceUrl: 'https://fb.me/xyz123' },
    },
    {},
    '[Forwarded many times]\n[Came from ad "Spring sale"]\nIs this real?',
    'Is this real?',
  ],
  [
    'forwarded once, from a post known by its URL',
    { type: 'text', text: 'hi' },
    { forwarded: 'once', referral: { sourceType: 'post', sourceUrl: 'https://fb.me/xyz123' } },
    {},
    '[Forwarded]\n[Came from post https://fb.me/xyz123]\nhi',
    'hi',
  ],
];

describe('renderForModel and summarize', () => {
  it.each(cases)('%s', (_name, content, context, options, model, summary) => {
    expect(renderForModel(content, context, options)).toBe(model);
    expect(summarize(content)).toBe(summary);
  });

  it('covers every content type', () => {
    expect(new Set(cases.map(([, content]) => content.type))).toEqual(new Set(CONTENT_TYPES));
  });

  it('cuts a long quote to about 200 characters', () => {
    const rendered = renderForModel(
      { type: 'text', text: 'ok' },
      { quote: { providerMessageId: 'SM1' } },
      { quotedText: '😀'.repeat(300) },
    );
    expect(rendered).toBe(`[Replying to: "${'😀'.repeat(200)}…"]\nok`);
  });

  it('keeps a summary to one short line', () => {
    const summary = summarize({ type: 'text', text: `first line\nsecond ${'x'.repeat(200)}` });
    expect(summary).not.toContain('\n');
    expect(codePointLength(summary)).toBeLessThanOrEqual(91);
    expect(summary.endsWith('…')).toBe(true);
  });
});

// Whitespace, newlines and any code point: what a hostile or careless provider could send.
const text = fc.oneof(
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.constantFrom('', ' ', '\n', '\t \r\n', '\u00a0'),
);
const mediaKind = fc.constantFrom('image', 'audio', 'voice', 'video', 'document', 'sticker' as const);
const content: fc.Arbitrary<Content> = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text }),
  fc.record(
    {
      type: fc.constant('media' as const),
      items: fc.array(fc.record({ kind: mediaKind, contentType: text, reference: text }), { maxLength: 3 }),
      caption: text,
    },
    { requiredKeys: ['type', 'items'] },
  ),
  fc.record(
    {
      type: fc.constant('location' as const),
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
      name: text,
      address: text,
    },
    { requiredKeys: ['type', 'latitude', 'longitude'] },
  ),
  fc.record({
    type: fc.constant('contacts' as const),
    contacts: fc.array(fc.record({ name: text, phones: fc.array(text, { maxLength: 2 }) }), { maxLength: 2 }),
  }),
  fc.record({
    type: fc.constant('interactive_reply' as const),
    kind: fc.constantFrom('button', 'list' as const),
    id: text,
    title: text,
  }),
  fc.record({
    type: fc.constant('reaction' as const),
    emoji: fc.option(text, { nil: null }),
    targetProviderMessageId: text,
  }),
  fc.record({
    type: fc.constant('template' as const),
    templateId: text,
    variables: fc.dictionary(text, text, { maxKeys: 3 }),
  }),
  fc.record(
    { type: fc.constant('unsupported' as const), providerType: text, description: text },
    { requiredKeys: ['type', 'providerType'] },
  ),
);
const context: fc.Arbitrary<MessageContext> = fc.record(
  {
    quote: fc.record({ providerMessageId: text }),
    referral: fc.record({ headline: text, sourceType: text }, { requiredKeys: [] }),
    forwarded: fc.constantFrom('once', 'frequently' as const),
  },
  { requiredKeys: [] },
);

describe('renderForModel (property)', () => {
  it('never renders an empty or whitespace-only turn, and summaries are one non-empty line', () => {
    fc.assert(
      fc.property(content, context, fc.option(text, { nil: undefined }), (c, ctx, quotedText) => {
        const options = quotedText === undefined ? {} : { quotedText };
        expect(renderForModel(c, ctx, options).trim()).not.toBe('');
        const summary = summarize(c);
        expect(summary.trim()).not.toBe('');
        expect(summary).not.toMatch(/[\n\r]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('media the worker understood (issue #15)', () => {
  const voice = { kind: 'voice' as const, contentType: 'audio/ogg', reference: TWILIO_MEDIA };

  it('a transcribed voice note is its words, marked as a voice message; silence says so', () => {
    expect(renderForModel({ type: 'media', items: [{ ...voice, transcript: ' See you at 8 ' }] }, {})).toBe(
      '[Voice message, transcribed]: See you at 8',
    );
    expect(renderForModel({ type: 'media', items: [{ ...voice, transcript: '' }] }, {})).toBe(
      '[Voice message, transcribed: no words could be heard]',
    );
  });

  it('an item not taken says why, beside the caption', () => {
    const refused = {
      kind: 'image' as const,
      contentType: 'image/jpeg',
      reference: TWILIO_MEDIA,
      refused: 'too_large',
    };
    expect(renderForModel({ type: 'media', items: [refused], caption: 'Look' }, {})).toBe(
      '[Image (image/jpeg) that could not be opened: it is larger than the size limit]\nLook',
    );
    expect(renderForModel({ type: 'media', items: [{ ...refused, refused: 'new_reason' }] }, {})).toBe(
      '[Image (image/jpeg) that could not be opened: new_reason]',
    );
  });

  it('a stored item without a transcript keeps its label (never its bytes or text)', () => {
    const stored = { key: 'm/0', sizeBytes: 10, contentType: 'application/pdf' };
    const document = { kind: 'document' as const, contentType: 'application/pdf', reference: 'x', stored };
    expect(renderForModel({ type: 'media', items: [document] }, {})).toBe('[Document (application/pdf)]');
  });
});
