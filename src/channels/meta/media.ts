/**
 * Media a user sent on Meta, fetched in Meta's two steps (wire facts §5.7): `GET /{media-id}` gives a short-lived
 * URL with the type, size and SHA-256; `GET` that URL with the same bearer token gives the bytes. Only the URL
 * Meta returned is fetched (no redirect followed), within a byte limit counted while the bytes arrive and a
 * deadline on each step. The Meta channel's fetchMedia calls it.
 */
import { createHash } from 'node:crypto';
import type { GraphApiSettings } from '../../config/channels.js';
import { AppError } from '../../domain/errors.js';
import { HttpTransportError, httpRequest } from '../../infra/http-client.js';
import { createGraphClient } from './client.js';
import { mapGraphAnswer, mapGraphFailure } from './errors.js';

/** WhatsApp's own ceiling for most media (documents go to 100 MB; raise it for them). */
export const DEFAULT_MEDIA_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MEDIA_TIMEOUT_MS = 30_000;

export interface MediaDownloadRequest {
  graph: GraphApiSettings;
  /** The access token of the number the media came to. */
  token: string;
  mediaId: string;
  /** Sent as `?phone_number_id=` (Meta checks the media belongs to that number). */
  phoneNumberId?: string;
  maxBytes?: number;
  /** Deadline of each of the two requests. */
  timeoutMs?: number;
  /** The job's shutdown signal: a download in flight stops with it. */
  signal?: AbortSignal;
}

export interface DownloadedMedia {
  bytes: Buffer;
  mimeType: string;
  sha256: string;
}

export async function downloadMetaMedia(request: MediaDownloadRequest): Promise<DownloadedMedia> {
  const maxBytes = request.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  const timeoutMs = request.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS;
  const meta = await createGraphClient(request.graph, timeoutMs).call({
    method: 'GET',
    path: `/${encodeURIComponent(request.mediaId)}`,
    token: request.token,
    ...(request.phoneNumberId ? { query: { phone_number_id: request.phoneNumberId } } : {}),
    action: 'media lookup',
  });
  const { url, mime_type: mimeType, sha256, file_size: fileSize } = meta;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url))
    throw new AppError('channel_unavailable', 'Meta media lookup answered without a download URL');
  if (!isMetaMediaHost(new URL(url), request.graph))
    throw new AppError(
      'channel_unavailable',
      `Meta media URL on an unexpected host (not fetched): ${new URL(url).host}`,
      {
        retryable: false,
      },
    );
  // A string in some of Meta's answers, a number in others.
  const size = typeof fileSize === 'number' ? fileSize : Number(fileSize);
  if (Number.isFinite(size) && size > maxBytes)
    throw tooLarge(`media ${request.mediaId} is ${size} bytes, more than the ${maxBytes} allowed`);
  let response;
  try {
    response = await httpRequest({
      url: new URL(url),
      method: 'GET',
      headers: { authorization: `Bearer ${request.token}` },
      timeoutMs,
      // Counted as the bytes arrive: a size Meta under-reported cannot fill the memory.
      maxBodyBytes: maxBytes,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (error) {
    if (error instanceof HttpTransportError && error.code === 'ERR_RESPONSE_TOO_LARGE')
      throw tooLarge(`media ${request.mediaId} is larger than the ${maxBytes} bytes allowed`);
    throw mapGraphFailure(error, 'media download');
  }
  if (response.status !== 200) throw mapGraphAnswer(response.status, null, 'media download');
  const digest = createHash('sha256').update(response.body).digest('hex');
  if (typeof sha256 === 'string' && sha256 !== '' && sha256.toLowerCase() !== digest)
    throw new AppError('channel_unavailable', `media ${request.mediaId} arrived damaged (SHA-256 differs)`);
  return {
    bytes: response.body,
    mimeType: typeof mimeType === 'string' ? mimeType : 'application/octet-stream',
    sha256: digest,
  };
}

/**
 * The bearer token goes only to Meta's media hosts over HTTPS (lookaside.fbsbx.com and the like), or to the
 * configured Graph API's own origin (a proxy, a test server): never to a host an altered lookup answer names.
 */
const META_MEDIA_HOSTS = /(^|\.)(fbsbx\.com|facebook\.com|fbcdn\.net|whatsapp\.net)$/i;

function isMetaMediaHost(url: URL, graph: GraphApiSettings): boolean {
  if (url.origin === new URL(graph.baseUrl).origin) return true;
  return url.protocol === 'https:' && META_MEDIA_HOSTS.test(url.hostname);
}

function tooLarge(message: string): AppError {
  return new AppError('payload_too_large', message, { retryable: false });
}
