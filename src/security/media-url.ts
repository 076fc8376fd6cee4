/**
 * Signed, expiring URLs of our stored media (issue #15): Twilio's MediaUrl and Meta's `link` must be fetchable
 * without a login, so a voice answer goes out as `<PUBLIC_BASE_URL>/media/<key>?expires=<unix s>&signature=<hex>`,
 * the HMAC-SHA256 of the key and expiry under a server key. Anyone with the URL can fetch the file until it
 * expires; nobody can forge one for another key or a later expiry. The key comes from the same base as the admin
 * cookie's secret (ADMIN_SESSION_SECRET, else derived from the deployment's secrets), under a label of its own, so
 * every web process and worker of a deployment agrees on it without one more variable.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sessionSecretFrom } from '../admin/settings.js';
import type { Config } from '../config/load.js';
import type { MediaLinks } from '../ports.js';

/** Long enough for a send retried over hours (the provider fetches the file when it sends), short of forever. */
export const MEDIA_URL_TTL_SECONDS = 24 * 60 * 60;
export const MEDIA_URL_PREFIX = '/media/';

export function mediaUrlKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('whatsapp-ai-chatbot media url v1').digest();
}

function signature(key: Buffer, mediaKey: string, expires: number): string {
  return createHmac('sha256', key).update(`${mediaKey}\n${expires}`).digest('hex');
}

/** The path (no origin) of `mediaKey`, valid until `expires` (unix seconds). */
export function signedMediaPath(key: Buffer, mediaKey: string, expires: number): string {
  return `${MEDIA_URL_PREFIX}${mediaKey}?expires=${expires}&signature=${signature(key, mediaKey, expires)}`;
}

export type MediaUrlCheck = 'ok' | 'expired' | 'bad_signature';

/** Constant-time: a wrong signature takes as long to refuse as a nearly right one. */
export function checkMediaSignature(
  key: Buffer,
  mediaKey: string,
  expires: unknown,
  given: unknown,
  nowSeconds: number,
): MediaUrlCheck {
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof given !== 'string')
    return 'bad_signature';
  const expected = Buffer.from(signature(key, mediaKey, Number(expires)), 'hex');
  const actual = Buffer.from(/^[0-9a-f]{64}$/.test(given) ? given : '', 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return 'bad_signature';
  return Number(expires) < nowSeconds ? 'expired' : 'ok';
}

export function mediaLinksFrom(config: Config, now: () => number = Date.now): MediaLinks {
  const key = mediaUrlKey(sessionSecretFrom(config));
  const base = config.http.publicBaseUrl ?? '';
  return {
    public: base !== '',
    urlFor: (mediaKey) =>
      `${base}${signedMediaPath(key, mediaKey, Math.floor(now() / 1000) + MEDIA_URL_TTL_SECONDS)}`,
  };
}
