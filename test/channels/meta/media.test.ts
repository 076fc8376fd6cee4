import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadMetaMedia } from '../../../src/channels/meta/media.js';
import { AppError } from '../../../src/domain/errors.js';
import { startFakeGraphApi, type FakeGraphApi } from '../../helpers/fake-graph-api.js';

const NUMBER = { phoneNumberId: '106540352242922', token: 'EAAG-media-token' };

let fake: FakeGraphApi;
let graph: { baseUrl: string; version: string };
beforeAll(async () => {
  fake = await startFakeGraphApi();
  fake.addNumber(NUMBER);
  graph = { baseUrl: fake.url, version: 'v24.0' };
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

async function failure(run: Promise<unknown>): Promise<AppError> {
  const error: unknown = await run.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('Meta media download', () => {
  it.each(['string', 'number'] as const)(
    'looks the media up, then fetches the URL Meta gave with the token (file_size as a %s)',
    async (fileSizeAs) => {
      const bytes = randomBytes(5000);
      const media = fake.addMedia({ bytes, mimeType: 'image/jpeg', fileSizeAs });
      const downloaded = await downloadMetaMedia({
        graph,
        token: NUMBER.token,
        mediaId: media.id,
        phoneNumberId: NUMBER.phoneNumberId,
      });
      expect(downloaded.bytes.equals(bytes)).toBe(true);
      expect(downloaded.mimeType).toBe('image/jpeg');
      expect(fake.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([
        ['GET', `/${media.id}`, `Bearer ${NUMBER.token}`],
        ['GET', `/media-download/${media.id}`, `Bearer ${NUMBER.token}`],
      ]);
      expect(fake.requests[0]?.query.get('phone_number_id')).toBe(NUMBER.phoneNumberId);
    },
  );

  it('refuses media whose announced size is over the limit, without downloading it', async () => {
    const media = fake.addMedia({ bytes: randomBytes(2048), mimeType: 'video/mp4' });
    const error = await failure(
      downloadMetaMedia({ graph, token: NUMBER.token, mediaId: media.id, maxBytes: 1024 }),
    );
    expect(error.kind).toBe('payload_too_large');
    expect(fake.requests).toHaveLength(1);
  });

  it('stops a download that outgrows the limit even when Meta under-reported its size', async () => {
    const media = fake.addMedia({ bytes: randomBytes(64 * 1024), mimeType: 'video/mp4', reportedSize: 10 });
    const error = await failure(
      downloadMetaMedia({ graph, token: NUMBER.token, mediaId: media.id, maxBytes: 1024 }),
    );
    expect(error.kind).toBe('payload_too_large');
  });

  it('a download that stalls ends at the deadline as a retryable failure', async () => {
    const media = fake.addMedia({ bytes: randomBytes(4096), mimeType: 'audio/ogg', stallAfterBytes: 100 });
    const error = await failure(
      downloadMetaMedia({ graph, token: NUMBER.token, mediaId: media.id, timeoutMs: 300 }),
    );
    expect(error).toMatchObject({ kind: 'channel_unavailable', retryable: true });
    expect(error.message).toContain('ETIMEDOUT');
  });

  it('never sends the token to a download URL off Meta’s media hosts', async () => {
    for (const downloadUrl of [
      'http://169.254.169.254/latest/meta-data',
      'https://media.example.com/x.jpg',
    ]) {
      const media = fake.addMedia({ bytes: Buffer.from('jpeg'), mimeType: 'image/jpeg', downloadUrl });
      const error = await failure(downloadMetaMedia({ graph, token: NUMBER.token, mediaId: media.id }));
      expect(error.message).toContain('unexpected host');
      expect(error.retryable).toBe(false);
    }
  });

  it('a wrong token is an auth error; an unknown media id is refused', async () => {
    const media = fake.addMedia({ bytes: randomBytes(10), mimeType: 'image/png' });
    expect((await failure(downloadMetaMedia({ graph, token: 'wrong', mediaId: media.id }))).kind).toBe(
      'channel_auth',
    );
    const unknown = await failure(downloadMetaMedia({ graph, token: NUMBER.token, mediaId: '999' }));
    expect(unknown).toMatchObject({ kind: 'channel_rejected', code: '100' });
  });
});
