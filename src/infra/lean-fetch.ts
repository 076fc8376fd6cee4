/**
 * A `fetch` for the LLM SDKs (their documented `fetch` option) over http-client.ts: same promise, same Response,
 * same errors as the platform's fetch for what those SDKs send (a JSON body, a method, headers, a signal), at
 * about half its CPU per call. Anything else (a stream or form body, a Request object, another scheme) goes to the
 * platform's fetch unchanged, and so does a redirect, from its new location.
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
  const location = answer.headers.location;
  if (REDIRECT_STATUSES.has(answer.status) && location && init.redirect !== 'manual') {
    return followRedirect(url, location, answer.status, init);
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
    headers.append(answer.rawHeaders[i] ?? '', answer.rawHeaders[i + 1] ?? '');
  }
  const content = NULL_BODY_STATUSES.has(answer.status) ? null : answer.body;
  try {
    return new Response(content, { status: answer.status, statusText: answer.statusText, headers });
  } catch {
    // The Response constructor is stricter than the wire: a reason phrase with control characters is dropped,
    // and a status outside 200–599 is a failure to talk HTTP, as for any broken answer.
    try {
      return new Response(content, { status: answer.status, headers });
    } catch (error) {
      throw new TypeError('fetch failed', { cause: error });
    }
  }
}

/**
 * The first hop by fetch's rules, from the new location (never the original URL again: the request may have been
 * taken there); the platform's fetch follows any further hops. 303, and 301/302 after a POST, become a GET.
 */
function followRedirect(from: URL, location: string, status: number, init: RequestInit): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
  if (!toGet) return globalThis.fetch(new URL(location, from), init);
  const headers = new Headers(init.headers);
  for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language'])
    headers.delete(name);
  return globalThis.fetch(new URL(location, from), { ...init, method: 'GET', body: null, headers });
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
