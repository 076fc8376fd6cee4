/**
 * The one place a twilio SDK client is made. Credentials are always passed explicitly (the SDK otherwise reads
 * TWILIO_* from the environment on its own), and every request goes through ChannelHttpClient.
 */
import http from 'node:http';
import qs from 'qs';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { TwilioSettings } from '../../config/load.js';
import { AppError } from '../../domain/errors.js';
import { httpRequest } from '../../infra/http-client.js';

export type TwilioClient = twilio.Twilio;

/** Connections to Twilio per process: the SDK's default (docs/scaling.md: what it means for throughput). */
export const TWILIO_MAX_SOCKETS = 20;
type Sent<TData> = ReturnType<typeof twilio.RequestClient.prototype.request<TData>>;

/**
 * The SDK's documented extension point for its HTTP layer. The SDK still builds each request (path, form fields,
 * User-Agent, Basic auth) and parses each answer; this class only moves the bytes, over node:http(s) instead of
 * axios, at half the CPU per send (src/infra/http-client.ts). Encoding and headers are the SDK's own (qs with
 * repeated keys, as its RequestClient does).
 * The SDK has no base-URL option, so TWILIO_API_BASE_URL (a fake, a proxy, a regional gateway) is honoured by
 * rewriting the origin of each request; path and query stay as the SDK built them.
 * It also turns a 429 into AppError here, because the SDK's RestException drops the response headers and with
 * them Retry-After.
 */
class ChannelHttpClient extends twilio.RequestClient {
  readonly #baseUrl: URL | undefined;
  readonly #timeoutMs: number;
  readonly #httpAgent: http.Agent;

  constructor(baseUrl: string | undefined, timeoutMs: number) {
    // At most TWILIO_MAX_SOCKETS sends in flight per process (the SDK's default, which stays under Twilio's
    // per-account concurrency limit), and all of them kept open between bursts: the SDK keeps only 5, so every
    // burst paid new TLS handshakes.
    super({
      timeout: timeoutMs,
      keepAlive: true,
      maxSockets: TWILIO_MAX_SOCKETS,
      maxFreeSockets: TWILIO_MAX_SOCKETS,
    });
    this.#baseUrl = baseUrl === undefined ? undefined : new URL(baseUrl);
    this.#timeoutMs = timeoutMs;
    // The SDK pools https connections only (its agent honours TWILIO_CA_BUNDLE and HTTP_PROXY, so it is kept);
    // a plain-http base URL (a local gateway, the fakes) gets a pool of its own with the same limits.
    this.#httpAgent = new http.Agent({
      keepAlive: true,
      timeout: timeoutMs,
      maxSockets: TWILIO_MAX_SOCKETS,
      maxFreeSockets: TWILIO_MAX_SOCKETS,
    });
  }

  override async request<TData>(options: RequestClient.RequestOptions<TData>): Sent<TData> {
    const url = new URL(this.#baseUrl ? rebase(options.uri, this.#baseUrl) : options.uri);
    if (options.params) appendQuery(url, qs.stringify(options.params, { arrayFormat: 'repeat' }));
    const headers: Record<string, string> = { ...options.headers };
    if (options.username && options.password) {
      headers.Authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    } else if (options.authStrategy) {
      headers.Authorization = await options.authStrategy.getAuthString();
    }
    const response = await httpRequest({
      url,
      method: options.method.toUpperCase(),
      headers,
      body: encodeBody(options.data, headers['Content-Type']),
      // `||` as the SDK's own client: a timeout of 0 means the default, not an instant failure.
      timeoutMs: options.timeout || this.#timeoutMs,
      agent: url.protocol === 'http:' ? this.#httpAgent : (this.axios.defaults.httpsAgent as http.Agent),
    });
    const body = response.body.toString('utf8');
    if (response.status === 429) throw rateLimited(body, response.headers);
    // What the SDK's own RequestClient returns (a plain object, typed as its Response class). The body stays a
    // string: the SDK parses it, and a RestException's body, itself.
    const answer = { statusCode: response.status, body, headers: response.headers };
    return answer as unknown as Awaited<Sent<TData>>;
  }
}

/** As the SDK's RequestClient encodes a body: a form for its POSTs, JSON for the few JSON APIs, else none. */
function encodeBody(data: unknown, contentType: string | undefined): string | undefined {
  if (data === undefined || data === null) return undefined;
  if (contentType === 'application/x-www-form-urlencoded')
    return qs.stringify(data, { arrayFormat: 'repeat' });
  if (contentType === 'application/json') return JSON.stringify(data);
  return undefined;
}

function appendQuery(url: URL, query: string): void {
  if (query === '') return;
  url.search = url.search === '' ? `?${query}` : `${url.search}&${query}`;
}

function rebase(uri: string, baseUrl: URL): string {
  const original = new URL(uri);
  // A base URL with a path (http://proxy/twilio) prefixes the SDK's path.
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  return `${baseUrl.origin}${prefix}${original.pathname}${original.search}`;
}

function rateLimited(body: unknown, headers: Record<string, unknown>): AppError {
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  const code = isRecord(parsed) && typeof parsed.code === 'number' ? String(parsed.code) : undefined;
  const retryAfter = Number(headers['retry-after']);
  const options = Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {};
  return new AppError(
    'channel_rate_limited',
    `Twilio rate limited the request (HTTP 429${code ? `, code ${code}` : ''})`,
    {
      ...options,
      // Refused: Twilio did not take the message.
      notSent: true,
      ...(code ? { code } : {}),
    },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export interface ClientOptions {
  /** Per-request timeout; an ambiguous send after a timeout is what Channel.findSent exists for. */
  timeoutMs?: number;
}

/** Create once per process and reuse: the SDK takes ~200 ms to load and keeps a pooled keep-alive agent. */
export function createTwilioClient(settings: TwilioSettings, options: ClientOptions = {}): TwilioClient {
  try {
    return twilio(settings.accountSid, settings.authToken, {
      accountSid: settings.accountSid,
      httpClient: new ChannelHttpClient(settings.apiBaseUrl, options.timeoutMs ?? 15_000),
      // Never let TWILIO_LOG_LEVEL=debug make the SDK print requests to stdout.
      logLevel: 'info',
    });
  } catch (error) {
    // The SDK throws for an account SID not starting with AC; never echo the credentials themselves.
    throw new AppError('config', `Twilio client could not be created: ${(error as Error).message}`);
  }
}
