/**
 * Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2, …) through the AWS SDK's S3
 * client, loaded only when S3_BUCKET is set, so a deployment on local disk never pays for it.
 * Checksums are computed and validated only where the S3 API requires them: many S3-compatible servers reject
 * the SDK's newer default checksum headers (the SDK's own note on third-party stores).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { assertMediaKey, assertMessageId, type MediaStore } from './store.js';

export interface S3Settings {
  bucket: string;
  region: string;
  /** A non-AWS server (MinIO, R2); AWS's own endpoint when absent. */
  endpoint: string | undefined;
  /** Absent: the SDK's default chain (environment, instance role, …). */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** `bucket` in the path rather than the host name: what most S3-compatible servers expect. */
  forcePathStyle: boolean;
  /** Prepended to every key (one bucket shared by several deployments). */
  prefix: string;
}

/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1000;

export async function createS3MediaStore(settings: S3Settings): Promise<MediaStore & { close(): void }> {
  const s3 = await import('@aws-sdk/client-s3');
  const client: S3Client = new s3.S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
  });
  const objectKey = (key: string) => `${settings.prefix}${key}`;

  async function keysOf(messageId: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new s3.ListObjectsV2Command({
          Bucket: settings.bucket,
          Prefix: objectKey(`${messageId}/`),
          ContinuationToken: token,
        }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  return {
    kind: 's3',
    async put(key, bytes, contentType) {
      assertMediaKey(key);
      await client.send(
        new s3.PutObjectCommand({
          Bucket: settings.bucket,
          Key: objectKey(key),
          Body: bytes,
          ContentType: contentType,
        }),
      );
    },
    async get(key) {
      assertMediaKey(key);
      try {
        const object = await client.send(
          new s3.GetObjectCommand({ Bucket: settings.bucket, Key: objectKey(key) }),
        );
        if (!object.Body) return null;
        return Buffer.from(await object.Body.transformToByteArray());
      } catch (error) {
        if (error instanceof s3.NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async removeMessages(messageIds) {
      const keys: string[] = [];
      for (const id of messageIds) {
        assertMessageId(id);
        keys.push(...(await keysOf(id)));
      }
      for (let start = 0; start < keys.length; start += DELETE_BATCH) {
        const batch = keys.slice(start, start + DELETE_BATCH);
        const result = await client.send(
          new s3.DeleteObjectsCommand({
            Bucket: settings.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0)
          throw new Error(
            `the bucket kept ${failed.length} media object(s): ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`.trim(),
          );
      }
      return keys.length;
    },
    close: () => client.destroy(),
  };
}
