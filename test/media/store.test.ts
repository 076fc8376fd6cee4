/**
 * The media store's two backends behave alike: a local directory, and an S3-compatible bucket reached by the
 * AWS SDK's real S3 client over HTTP (a fake S3 server that checks Signature V4 and speaks S3's XML).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalMediaStore } from '../../src/media/local-store.js';
import { createS3MediaStore } from '../../src/media/s3-store.js';
import { mediaKey, type MediaStore } from '../../src/media/store.js';
import { startFakeS3, type FakeS3 } from '../helpers/fake-s3.js';

const MESSAGE = '6f1c2a9e-0b7d-4c55-9a43-2f0e8d1b7c11';
const OTHER = '0a4b7c2d-1e3f-4a5b-8c6d-7e8f9a0b1c2d';
const voiceNote = Buffer.from([0x4f, 0x67, 0x67, 0x53, 0x00, 0x02, 0xff, 0x10]);

function behavesAsAStore(name: string, open: () => MediaStore) {
  describe(name, () => {
    it('keeps bytes under a message key, replaces them on a second write, and says null for none', async () => {
      const store = open();
      await store.put(mediaKey(MESSAGE, 0), voiceNote, 'audio/ogg');
      await store.put(mediaKey(MESSAGE, 1), Buffer.from('first'), 'text/plain');
      await store.put(mediaKey(MESSAGE, 1), Buffer.from('second'), 'text/plain');
      expect(await store.get(mediaKey(MESSAGE, 0))).toEqual(voiceNote);
      expect((await store.get(mediaKey(MESSAGE, 1)))?.toString()).toBe('second');
      expect(await store.get(mediaKey(MESSAGE, 2))).toBeNull();
    });

    it("deletes a message's media and only that message's", async () => {
      const store = open();
      await store.put(mediaKey(MESSAGE, 0), voiceNote, 'audio/ogg');
      await store.put(mediaKey(MESSAGE, 1), voiceNote, 'audio/ogg');
      await store.put(mediaKey(OTHER, 0), voiceNote, 'image/jpeg');
      expect(await store.removeMessages([MESSAGE])).toBe(2);
      expect(await store.get(mediaKey(MESSAGE, 0))).toBeNull();
      expect(await store.get(mediaKey(OTHER, 0))).toEqual(voiceNote);
      // Again, or a message that never had media: nothing to delete, no error.
      expect(await store.removeMessages([MESSAGE, 'never-had-media'])).toBe(0);
    });

    it('refuses keys that are not ours (a path through the store)', async () => {
      const store = open();
      await expect(store.put('../escape/0', voiceNote, 'audio/ogg')).rejects.toThrow(/not a media key/);
      await expect(store.get('a/../../b')).rejects.toThrow(/not a media key/);
      await expect(store.removeMessages(['../..'])).rejects.toThrow(/not a message id/);
    });
  });
}

let dir: string;
let s3: FakeS3;
let s3Store: Awaited<ReturnType<typeof createS3MediaStore>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-store-'));
  // Pages of 2 keys, so deleting a message with more media than one page follows the continuation token.
  s3 = await startFakeS3({ listPageSize: 2 });
  s3Store = await createS3MediaStore({
    bucket: s3.bucket,
    region: 'eu-west-1',
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    prefix: 'deployment-a/',
  });
});

afterAll(async () => {
  s3Store.close();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

behavesAsAStore('local directory', () => createLocalMediaStore(dir));
behavesAsAStore('S3-compatible bucket', () => s3Store);

describe('specifics', () => {
  it('local: no temporary file is left behind', async () => {
    const store = createLocalMediaStore(dir);
    await store.put(mediaKey(OTHER, 3), voiceNote, 'audio/ogg');
    expect((await readdir(join(dir, OTHER))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('S3: objects live under the prefix with their content type; a deletion pages through the listing', async () => {
    for (let index = 0; index < 5; index += 1)
      await s3Store.put(mediaKey(MESSAGE, index), voiceNote, 'audio/ogg');
    expect(s3.objects.get(`deployment-a/${MESSAGE}/4`)?.contentType).toBe('audio/ogg');
    const listingsBefore = s3.requests.filter((r) => r.includes('list-type=2')).length;
    expect(await s3Store.removeMessages([MESSAGE])).toBe(5);
    expect(s3.requests.filter((r) => r.includes('list-type=2')).length - listingsBefore).toBe(3);
    expect([...s3.objects.keys()].filter((key) => key.includes(MESSAGE))).toEqual([]);
  });

  it('S3: a wrong secret is refused by the server, and the error reaches the caller', async () => {
    const wrong = await createS3MediaStore({
      bucket: s3.bucket,
      region: 'eu-west-1',
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: 'not-the-secret',
      forcePathStyle: true,
      prefix: '',
    });
    try {
      await expect(wrong.put(mediaKey(OTHER, 9), voiceNote, 'audio/ogg')).rejects.toThrow(/signature/i);
    } finally {
      wrong.close();
    }
  });
});
