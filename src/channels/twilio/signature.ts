/**
 * X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL as Twilio called it + every POST param sorted by name,
 * name+value concatenated)). Matches twilio-node's webhooks.js exactly (checked against it in the tests), without
 * loading the SDK on the webhook's hot path.
 *
 * The HMAC-SHA256 variant (Webhooks Rules, `X-Twilio-Webhooks-Signature-Settings`) is not supported: twilio-node
 * 6.2.0, the newest release, cannot verify it, so there is no reference to check an implementation against.
 */
import crypto from 'node:crypto';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';

export type SignedParams = Record<string, string | string[]>;

/** The signature Twilio sends for a request to `url` with these form params. */
export function computeTwilioSignature(authToken: string, url: string, params: SignedParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined) continue;
    // Repeated keys: the SDK signs each distinct value once, values sorted, each as name+value.
    const values = typeof value === 'string' ? [value] : Array.from(new Set(value)).sort();
    for (const v of values) data += key + v;
  }
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

export interface VerifyInput {
  authToken: string;
  /** The URL Twilio called, query string included (see publicRequestUrl). */
  url: string;
  params: SignedParams;
  /** The X-Twilio-Signature header; a missing header never verifies. */
  signature: string | undefined;
}

/**
 * True when `signature` is what Twilio would send. Like the SDK's validateRequest, the URL is tried with and
 * without its default port (Twilio signs whichever form it was configured with), then in its `new URL()`-normalised
 * and legacy-querystring forms for back ends that signed an escaped query.
 */
export function verifyTwilioSignature({ authToken, url, params, signature }: VerifyInput): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  const matches = (candidate: string): boolean =>
    safeEqual(given, Buffer.from(computeTwilioSignature(authToken, candidate, params)));

  if (matches(removePort(url)) || matches(addPort(url))) return true;
  let normalized: string;
  try {
    normalized = new URL(url).toString();
  } catch {
    return false;
  }
  const withoutPort = removePort(normalized);
  const withPort = addPort(normalized);
  return [withoutPort, withPort, withLegacyQuerystring(withoutPort), withLegacyQuerystring(withPort)].some(
    matches,
  );
}

/** Constant-time; the length check leaks nothing since a valid signature's length is fixed by the algorithm. */
function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

interface UrlParts {
  scheme: string;
  userInfo: string;
  host: string;
  port: string;
  rest: string;
}

/** Split without normalising, so the path and query keep the exact characters Twilio signed. */
function splitUrl(url: string): UrlParts | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function removePort(url: string): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  return parts.scheme + parts.userInfo + parts.host + parts.rest;
}

function withLegacyQuerystring(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return url.slice(0, queryStart) + '?' + stringifyQuery(parseQuery(url.slice(queryStart + 1)));
}

export interface RequestUrlInput {
  /** Config http.publicBaseUrl: the public prefix Twilio calls, without a trailing slash. */
  publicBaseUrl: string | undefined;
  trustProxy: boolean;
  /** Protocol of the connection that reached us (`http` or `https`). */
  protocol: string;
  /** Host header of the request that reached us. */
  host: string;
  headers: Record<string, string | string[] | undefined>;
  /** Path and query exactly as received (not decoded, not re-encoded). */
  originalUrl: string;
}

/**
 * Rebuild the URL Twilio called. Behind a proxy or tunnel the URL we see is not the one Twilio signed: a
 * configured public base URL wins; else X-Forwarded-Proto/Host when the proxy is trusted; else what we received.
 * With a public base URL whose path is a prefix (`https://example.com/bot`), the proxy is expected to strip it.
 */
export function publicRequestUrl(input: RequestUrlInput): string {
  const path = input.originalUrl.startsWith('/') ? input.originalUrl : `/${input.originalUrl}`;
  if (input.publicBaseUrl) return input.publicBaseUrl.replace(/\/+$/, '') + path;
  let protocol = input.protocol.replace(/:$/, '');
  let host = input.host;
  if (input.trustProxy) {
    protocol = firstHeaderValue(input.headers['x-forwarded-proto']) ?? protocol;
    host = firstHeaderValue(input.headers['x-forwarded-host']) ?? host;
  }
  return `${protocol}://${host}${path}`;
}

/** A chain of proxies appends values (`https, http`); the first is what the client (Twilio) used. */
function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',')[0]?.trim();
  return first ? first : undefined;
}
