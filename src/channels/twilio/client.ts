/**
 * The one place a twilio SDK client is made. Credentials are always passed explicitly (the SDK otherwise reads
 * TWILIO_* from the environment on its own), and every request goes through ChannelHttpClient.
 */
import http from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { TwilioSettings } from '../../config/load.js';
import { AppError } from '../../domain/errors.js';

export type TwilioClient = twilio.Twilio;
type Sent<TData> = ReturnType<typeof twilio.RequestClient.prototype.request<TData>>;

/**
 * The SDK has no base-URL option, so TWILIO_API_BASE_URL (a fake, a proxy, a regional gateway) is honoured by
 * rewriting the origin of each request; path and query stay as the SDK built them.
 * It also turns a 429 into AppError here, because the SDK's RestException drops the response headers and with
 * them Retry-After.
 */
class ChannelHttpClient extends twilio.RequestClient {
  readonly #baseUrl: URL | undefined;

  constructor(baseUrl: string | undefined, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true });
    this.#baseUrl = baseUrl === undefined ? undefined : new URL(baseUrl);
    // The SDK pools https connections only; a plain-http base URL (a local gateway, the fakes) would open a new
    // TCP connection per send without this.
    if (this.#baseUrl?.protocol === 'http:')
      this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, timeout: timeoutMs });
  }

  override async request<TData>(options: RequestClient.RequestOptions<TData>): Sent<TData> {
    const uri = this.#baseUrl ? rebase(options.uri, this.#baseUrl) : options.uri;
    const response = await super.request<TData>({ ...options, uri });
    if (response.statusCode === 429)
      throw rateLimited(response.body, response.headers as Record<string, unknown>);
    return response;
  }
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
