import { describe, expect, it } from 'vitest';
import { eraseMediaOf, mediaReferencesOf } from '../../src/pipeline/media-erasure.js';

describe('mediaReferencesOf', () => {
  it('lists every media item of media payloads, and nothing of other messages', () => {
    const references = mediaReferencesOf([
      {
        id: 'm1',
        payload: {
          content: {
            type: 'media',
            items: [
              { kind: 'image', contentType: 'image/jpeg', reference: 'https://api.twilio.com/Media/ME1' },
              { kind: 'audio', contentType: 'audio/ogg', reference: 'https://api.twilio.com/Media/ME2' },
            ],
          },
        },
      },
      { id: 'm2', payload: { content: { type: 'text', text: 'hi' } } },
      { id: 'm3', payload: null },
      { id: 'm4', payload: { content: { type: 'media', items: [{ kind: 'image' }] } } },
    ]);
    expect(references).toEqual([
      { messageId: 'm1', reference: 'https://api.twilio.com/Media/ME1' },
      { messageId: 'm1', reference: 'https://api.twilio.com/Media/ME2' },
    ]);
  });

  it('erases no file while no media store exists (issue #15 fills eraseMediaOf)', async () => {
    expect(await eraseMediaOf([{ messageId: 'm1', reference: 'https://example.com/a.jpg' }])).toBe(0);
  });
});
