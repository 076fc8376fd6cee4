/** The media store the configuration names: MEDIA_DIR on disk, or the S3 bucket (its SDK loaded only then). */
import type { MediaSettings } from '../config/media.js';
import { createLocalMediaStore } from './local-store.js';
import { createS3MediaStore } from './s3-store.js';
import type { MediaStore } from './store.js';

export async function openMediaStore(
  settings: MediaSettings['store'],
): Promise<MediaStore & { close(): void }> {
  if (settings.kind === 's3') return createS3MediaStore(settings);
  return { ...createLocalMediaStore(settings.dir), close: () => undefined };
}
