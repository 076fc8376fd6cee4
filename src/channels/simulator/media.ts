/**
 * The simulator's attachments (issue #15): the page uploads a file, the web route keeps it in the media store
 * under a key of its own, and the inbound message names it `simulator:<key>`. The worker's media stage then
 * fetches it through the channel like a Twilio MediaUrl, under the same limits, so the simulator exercises the
 * same download, transcription and vision path.
 */
import { randomBytes } from 'node:crypto';
import type { MediaItem } from '../../domain/content.js';
import { ALLOWED_MEDIA_TYPES, MediaRefused, type MediaLimits } from '../../media/fetch-twilio-media.js';
import { assertMediaKey, type MediaStore } from '../../media/store.js';
import type { FetchedMedia } from '../../ports.js';

export const SIMULATOR_MEDIA_PREFIX = 'simulator:';

/** What WhatsApp users can send, and what a browser records a voice note as (Chrome: WebM/Opus). */
export const SIMULATOR_UPLOAD_TYPES: readonly string[] = [...ALLOWED_MEDIA_TYPES, 'audio/webm'];

/** A fresh key for one upload: its own prefix, so it can never name a message's downloaded media. */
export function newUploadKey(): string {
  return `sim-${randomBytes(12).toString('hex')}/0`;
}

export function uploadReference(key: string): string {
  return `${SIMULATOR_MEDIA_PREFIX}${key}`;
}

export async function fetchSimulatorMedia(
  store: MediaStore,
  item: MediaItem,
  limits: Pick<MediaLimits, 'maxBytes'>,
): Promise<FetchedMedia> {
  const key = item.reference.startsWith(SIMULATOR_MEDIA_PREFIX)
    ? item.reference.slice(SIMULATOR_MEDIA_PREFIX.length)
    : '';
  try {
    assertMediaKey(key);
  } catch {
    throw new MediaRefused('foreign_host', `not a simulator upload: ${JSON.stringify(item.reference)}`);
  }
  const bytes = await store.get(key);
  if (!bytes) throw new MediaRefused('gone', `the simulator upload ${key} is not in the media store`);
  if (bytes.length > limits.maxBytes)
    throw new MediaRefused('too_large', `the upload is ${bytes.length} bytes; at most ${limits.maxBytes}`);
  return { bytes, contentType: item.contentType };
}
