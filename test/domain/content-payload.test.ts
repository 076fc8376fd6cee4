import { describe, expect, it } from 'vitest';
import { storedContent } from '../../src/domain/content-payload.js';

const TEXT = { content: { type: 'text', text: 'column text' }, context: {} };

describe('storedContent', () => {
  const fallbacks: Array<[string, unknown]> = [
    ['an old row (null)', null],
    ['a string that is not JSON', '{"content":'],
    ['JSON text without content', '{"content":{}}'],
    ['no content', { context: {} }],
    ['a kind this version does not know', { content: { type: 'poll', question: 'x' } }],
    ['a location without numbers', { content: { type: 'location', latitude: '1', longitude: 2 } }],
    [
      'media of an unknown kind',
      { content: { type: 'media', items: [{ kind: 'hologram', contentType: 'x/y', reference: 'r' }] } },
    ],
    [
      'an unsupported kind whose description is not text',
      { content: { type: 'unsupported', providerType: 'order', description: { items: [] } } },
    ],
    [
      'a button reply of an unknown kind',
      { content: { type: 'interactive_reply', kind: 'carousel', id: 'a', title: 'b' } },
    ],
  ];
  it.each(fallbacks)('reads %s as the text of the content column', (_name, payload) => {
    expect(storedContent(payload, 'column text')).toEqual(TEXT);
  });

  it('reads an unsupported kind with its description', () => {
    const content = { type: 'unsupported', providerType: 'order', description: 'an order of 1 product' };
    expect(storedContent({ content }, 'x').content).toEqual(content);
  });

  it('reads a payload handed over as JSON text (PGlite)', () => {
    expect(storedContent('{"content":{"type":"location","latitude":1,"longitude":2}}', 'x').content).toEqual({
      type: 'location',
      latitude: 1,
      longitude: 2,
    });
  });

  it('reads a well-formed payload, keeping only the context it knows', () => {
    const payload = {
      content: { type: 'reaction', emoji: null, targetProviderMessageId: 'SM1' },
      context: {
        quote: { providerMessageId: 'SM0', sender: 7 },
        referral: { headline: 'Sale', n: 3 },
        forwarded: 'twice',
      },
    };
    expect(storedContent(payload, 'x')).toEqual({
      content: { type: 'reaction', emoji: null, targetProviderMessageId: 'SM1' },
      context: { quote: { providerMessageId: 'SM0' }, referral: { headline: 'Sale' } },
    });
  });
});
