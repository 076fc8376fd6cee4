/**
 * A `fetch` for the LLM SDKs (their documented `fetch` option) over http-client.ts: same promise, same Response,
 * same errors as the platform's fetch for what those SDKs send (a JSON body, a method, headers, a signal), at
 * about half its CPU per call. Anything else (a stream or form body, a Request object, another scheme, a
 * redirect to follow) goes to the platform's fetch unchanged, so nothing is lost by using it.
 */
import { HttpTransportError, httpRequest } from './http-client.js';

/** Statuses whose Response must have no body (the constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export async function leanFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  const body = init.body;
  const simpleBody =
    body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !simpleBody) {
    return globalThis.fetch(input, init);
  }
  let answer;
  try {
    answer = await httpRequest({
      url,
      method: (init.method ?? 'GET').toUpperCase(),
      headers: headerRecord(init.headers),
      body: body ?? undefined,
      signal: init.signal,
    });
  } catch (error) {
    // The platform's fetch rejects with the abort reason, and with "fetch failed" caused by the system error.
    if (!(error instanceof HttpTransportError)) throw error;
    throw new TypeError('fetch failed', { cause: error });
  }
  if (REDIRECT_STATUSES.has(answer.status) && answer.headers.location && init.redirect !== 'manual') {
    return globalThis.fetch(input, init);
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
    headers.append(answer.rawHeaders[i] ?? '', answer.rawHeaders[i + 1] ?? '');
  }
  return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : answer.body, {
    status: answer.status,
    statusText: answer.statusText,
    headers,
  });
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    record[key] = key in record ? `${record[key] ?? ''}, ${value}` : value;
  };
  if (headers instanceof Headers) headers.forEach((value, name) => add(name, value));
  else if (Array.isArray(headers)) for (const [name, value] of headers) add(name ?? '', value ?? '');
  else for (const [name, value] of Object.entries(headers)) add(name, String(value));
  return record;
}
