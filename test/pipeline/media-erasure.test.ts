import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalMediaStore } from '../../src/media/local-store.js';
import { mediaKey } from '../../src/media/store.js';
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

  it('deletes every stored file of the referenced messages, once per message, and leaves the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'media-erasure-'));
    try {
      const store = createLocalMediaStore(dir);
      const [m1, m2] = ['6f1c2a9e-0b7d-4c55-9a43-2f0e8d1b7c11', '0a4b7c2d-1e3f-4a5b-8c6d-7e8f9a0b1c2d'];
      await store.put(mediaKey(m1, 0), Buffer.from('photo'), 'image/jpeg');
      await store.put(mediaKey(m1, 1), Buffer.from('voice'), 'audio/ogg');
      await store.put(mediaKey(m2, 0), Buffer.from('kept'), 'image/jpeg');
      const erased = await eraseMediaOf(store, [
        { messageId: m1, reference: 'https://api.twilio.com/Media/ME1' },
        { messageId: m1, reference: 'https://api.twilio.com/Media/ME2' },
      ]);
      expect(erased).toBe(2);
      expect(await store.get(mediaKey(m1, 0))).toBeNull();
      expect(await store.get(mediaKey(m1, 1))).toBeNull();
      expect((await store.get(mediaKey(m2, 0)))?.toString()).toBe('kept');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('erases nothing without a store or without references', async () => {
    expect(await eraseMediaOf(undefined, [{ messageId: 'm1', reference: 'https://example.com/a.jpg' }])).toBe(
      0,
    );
  });
});
