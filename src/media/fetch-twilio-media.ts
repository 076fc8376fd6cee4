/**
 * Downloads one of Twilio's inbound media (MediaUrl{N}) in the worker, never in the webhook. Twilio serves it
 * behind HTTP Basic auth (account SID and auth token) and answers with a redirect to a short-lived CDN URL.
 * Only a URL on the configured Twilio API host is fetched first-hand: a forged MediaUrl (also unsigned, but
 * checked anyway) cannot make us fetch an internal address. The credentials go to that host only, never to
 * the CDN a redirect names. Limits: the size (MEDIA_MAX_BYTES, checked on Content-Length and again while
 * reading), the content type, a deadline for the whole download, a few redirects.
 */
import { HttpTransportError, httpRequest } from '../infra/http-client.js';

/** Why a media file is not taken; each is a sentence to the user, not a retry. */
export type MediaRefusalReason = 'foreign_host' | 'too_large' | 'type_not_allowed' | 'gone';

export class MediaRefused extends Error {
  readonly reason: MediaRefusalReason;

  constructor(reason: MediaRefusalReason, message: string) {
    super(message);
    this.name = 'MediaRefused';
    this.reason = reason;
  }
}

/** What WhatsApp lets users send: voice notes and audio, photos and stickers, videos, and common documents. */
export const ALLOWED_MEDIA_TYPES: readonly string[] = [
  'audio/ogg',
  'audio/opus',
  'audio/mpeg',
  'audio/mp4',
  'audio/aac',
  'audio/amr',
  'image/jpeg',
  'image/png',
  'image/webp',
  'video/mp4',
  'video/3gpp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
];

export interface TwilioMediaSource {
  /** TWILIO_API_BASE_URL or https://api.twilio.com: only its host is fetched with credentials. */
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
}

export interface MediaLimits {
  maxBytes: number;
  timeoutMs: number;
  allowedTypes?: readonly string[];
}

export interface DownloadedMedia {
  bytes: Buffer;
  /** Without parameters, lower case (`audio/ogg`). */
  contentType: string;
}

const MAX_REDIRECTS = 5;

export async function fetchTwilioMedia(
  mediaUrl: string,
  source: TwilioMediaSource,
  limits: MediaLimits,
  signal?: AbortSignal,
): Promise<DownloadedMedia> {
  const api = new URL(source.apiBaseUrl);
  let url: URL;
  try {
    url = new URL(mediaUrl);
  } catch {
    throw new MediaRefused('foreign_host', `not a URL: ${mediaUrl.slice(0, 200)}`);
  }
  if (url.origin !== api.origin)
    throw new MediaRefused('foreign_host', `media URL not on ${api.host}: ${url.host} (not fetched)`);
  const deadline = Date.now() + limits.timeoutMs;
  const basic = Buffer.from(`${source.accountSid}:${source.authToken}`).toString('base64');

  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new HttpTransportError('media download timed out', 'ETIMEDOUT', false);
    const response = await httpRequest({
      url,
      method: 'GET',
      headers: url.origin === api.origin ? { authorization: `Basic ${basic}` } : {},
      timeoutMs: remaining,
      maxBodyBytes: limits.maxBytes,
      signal,
    }).catch((error: unknown) => {
      if (error instanceof HttpTransportError && error.code === 'ERR_RESPONSE_TOO_LARGE')
        throw new MediaRefused('too_large', `media larger than ${limits.maxBytes} bytes`);
      throw error;
    });
    if (response.status >= 300 && response.status < 400 && response.headers.location) {
      url = new URL(response.headers.location, url);
      if (url.protocol !== 'https:' && url.protocol !== api.protocol)
        throw new MediaRefused('foreign_host', `redirect to a ${url.protocol} URL (not followed)`);
      continue;
    }
    if (response.status === 404 || response.status === 410)
      throw new MediaRefused('gone', `the media is no longer at the provider (HTTP ${response.status})`);
    if (response.status !== 200)
      throw new Error(`media download failed: HTTP ${response.status} from ${url.host}`);
    const contentType = mediaType(response.headers['content-type']);
    if (!(limits.allowedTypes ?? ALLOWED_MEDIA_TYPES).includes(contentType))
      throw new MediaRefused('type_not_allowed', `media of type ${contentType} is not accepted`);
    return { bytes: response.body, contentType };
  }
  throw new Error(`media download followed more than ${MAX_REDIRECTS} redirects`);
}

/** `audio/ogg; codecs=opus` → `audio/ogg`. */
function mediaType(header: string | undefined): string {
  const [type = ''] = (header ?? 'application/octet-stream').split(';');
  return type.trim().toLowerCase();
}
