/**
 * The Graph API over our own HTTP client (src/infra/http-client.ts), no SDK: Meta's Cloud API is a handful of
 * JSON calls, and the transport we already use for Twilio and the LLMs gives a deadline on every request, a size
 * bound on every answer, and tells a failure that never reached Meta (safe to send again) from one that may have.
 */
import type { GraphApiSettings } from '../../config/channels.js';
import { AppError } from '../../domain/errors.js';
import { httpRequest } from '../../infra/http-client.js';
import { mapGraphAnswer, mapGraphFailure } from './errors.js';

/** A send's deadline; an ambiguous send after it is what the channel's findSent exists for. */
export const GRAPH_TIMEOUT_MS = 15_000;
/** Graph API answers are small JSON; anything larger is not an answer we understand. */
const MAX_JSON_BYTES = 1024 * 1024;

export interface GraphRequest {
  method: 'GET' | 'POST';
  /** Below the version: `/{phone-number-id}/messages`. */
  path: string;
  token: string;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** What the call is, for error messages: `send`, `mark read`, `number check`. */
  action: string;
  timeoutMs?: number;
}

export interface GraphClient {
  /** The answer's JSON on a 2xx; an AppError (errors.ts) otherwise. */
  call(request: GraphRequest): Promise<Record<string, unknown>>;
  /** `{base}/{version}` + path: where a request goes (for a URL Meta returns, nothing is built). */
  url(path: string, query?: Record<string, string>): URL;
}

export function createGraphClient(settings: GraphApiSettings, timeoutMs = GRAPH_TIMEOUT_MS): GraphClient {
  const url = (path: string, query: Record<string, string> = {}): URL => {
    const built = new URL(`${settings.baseUrl}/${settings.version}${path}`);
    for (const [name, value] of Object.entries(query)) built.searchParams.set(name, value);
    return built;
  };

  async function call(request: GraphRequest): Promise<Record<string, unknown>> {
    let response;
    try {
      response = await httpRequest({
        url: url(request.path, request.query),
        method: request.method,
        headers: {
          authorization: `Bearer ${request.token}`,
          accept: 'application/json',
          ...(request.body ? { 'content-type': 'application/json' } : {}),
        },
        body: request.body ? JSON.stringify(request.body) : undefined,
        timeoutMs: request.timeoutMs ?? timeoutMs,
        maxBodyBytes: MAX_JSON_BYTES,
      });
    } catch (error) {
      throw mapGraphFailure(error, request.action);
    }
    const body = parseJson(response.body.toString('utf8'));
    if (response.status < 200 || response.status >= 300)
      throw mapGraphAnswer(response.status, body, request.action);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new AppError(
        'channel_unavailable',
        `Meta ${request.action}: HTTP ${response.status} without a JSON object`,
      );
    return body as Record<string, unknown>;
  }

  return { call, url };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
