/**
 * How a stored media file goes out over HTTP (the admin's media view, the simulator's, the signed public URL of a
 * voice answer): with the type it was recorded with and never sniffed, under a policy that runs nothing, and as a
 * download unless it is a picture, a sound or a video that a browser only ever shows. A file the user sent (an
 * HTML page named .pdf, an SVG with a script) is so never rendered as a page of ours.
 */
import type { FastifyReply } from 'fastify';
import type { StoredMediaFile } from '../db/stored-media.js';

/** Shown in place (<img>, <audio>, <video>): raster pictures, sounds and videos. SVG is a document: it can script. */
const INLINE = /^(image\/(jpeg|png|webp|gif)|audio\/[a-z0-9.+-]+|video\/(mp4|3gpp|webm))$/;
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

export const STORED_MEDIA_CSP = "default-src 'none'; sandbox";

/** The bare MIME type (parameters dropped), lower case; octet-stream for anything malformed. */
export function servedType(contentType: string): string {
  const bare = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return MIME.test(bare) ? bare : 'application/octet-stream';
}

export function isInlineType(contentType: string): boolean {
  return INLINE.test(servedType(contentType));
}

/** `attachment` (or `inline`) with an ASCII fallback name and the real one in RFC 5987 form. */
function disposition(file: StoredMediaFile, inline: boolean): string {
  const name = file.filename ?? `${file.kind}-${file.key.replace('/', '-')}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function sendStoredMedia(reply: FastifyReply, file: StoredMediaFile, bytes: Buffer): FastifyReply {
  const type = servedType(file.contentType);
  const inline = isInlineType(type);
  return reply
    .headers({
      'content-type': type,
      'x-content-type-options': 'nosniff',
      'content-security-policy': STORED_MEDIA_CSP,
      'content-disposition': disposition(file, inline),
      'cache-control': 'private, no-store',
      'cross-origin-resource-policy': 'same-site',
    })
    .send(bytes);
}
