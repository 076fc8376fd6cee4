/**
 * Graph API answers and network failures → AppError, decided in one place (as channels/twilio/errors.ts does for
 * Twilio). Meta's error envelope is `{"error":{"message":"(#131047) …","code":131047,"error_data":{"details":…},
 * "fbtrace_id":…}}` (wire facts §5.5, §5.8). Messages carry the HTTP status, Meta's code and Meta's own text,
 * never a token.
 */
import { AppError, isAppError } from '../../domain/errors.js';
import { HttpTransportError } from '../../infra/http-client.js';

/** Meta's own throttles: the number's throughput (130429), the pair rate (131056), the app's (4, 80007), spam (131048). */
const RATE_LIMIT_CODES = new Set(['4', '80007', '130429', '131048', '131056']);

/** Token expired or invalid (190), permission missing (10, 200–299): fixing them needs a person. */
function isAuthCode(code: number): boolean {
  return code === 190 || code === 10 || (code >= 200 && code <= 299);
}

/** Meta's "try again" family: unknown error (1), service (2), something went wrong (131000), unavailable (131016). */
const TRANSIENT_CODES = new Set(['1', '2', '131000', '131016']);

export interface GraphErrorBody {
  message: string;
  code?: number;
  details?: string;
}

/** The envelope's error, when the body is one. */
export function graphErrorOf(body: unknown): GraphErrorBody | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { message, code, error_data: data } = error as Record<string, unknown>;
  const details =
    typeof data === 'object' && data !== null ? (data as { details?: unknown }).details : undefined;
  return {
    message: typeof message === 'string' ? message : 'no message',
    ...(typeof code === 'number' ? { code } : {}),
    ...(typeof details === 'string' ? { details } : {}),
  };
}

/**
 * An HTTP answer that was not a success. `status` is the HTTP status; `body` the parsed JSON (or null). A 4xx
 * says Meta refused the request: nothing was sent. A 5xx, with an error envelope or without, may come after it was.
 */
export function mapGraphAnswer(status: number, body: unknown, action: string): AppError {
  const graph = graphErrorOf(body);
  const code = graph?.code === undefined ? undefined : String(graph.code);
  const text = graph ? `${graph.message}${graph.details ? ` (${graph.details})` : ''}` : 'no error envelope';
  const detail = `Meta ${action} failed (HTTP ${status}${code ? `, code ${code}` : ''}): ${text}`;
  // A 5xx may come after Meta took the message, envelope or not ("something went wrong", 131000): only findSent
  // (the part id echoed in the status webhook) can tell, so it is not declared unsent.
  const options = { notSent: status < 500, ...(code ? { code } : {}) };
  if (status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code)))
    return new AppError('channel_rate_limited', detail, options);
  if (graph?.code !== undefined && isAuthCode(graph.code))
    return new AppError('channel_auth', detail, options);
  if (code !== undefined && TRANSIENT_CODES.has(code))
    return new AppError('channel_unavailable', detail, options);
  if (status >= 500 || status < 400) return new AppError('channel_unavailable', detail, options);
  if (status === 401 || status === 403) return new AppError('channel_auth', detail, options);
  // 131047 (outside the window: the caller follows with the window template), 131026 (undeliverable), 131050
  // (opted out of marketing), 132000/132001/132012 (template), 100 (invalid parameter), …: the same request
  // cannot succeed later.
  return new AppError('channel_rejected', detail, { ...options, retryable: false });
}

/** A failure below HTTP (our transport knows whether a connection was ever made), or anything else thrown. */
export function mapGraphFailure(error: unknown, action: string): AppError {
  if (isAppError(error)) return error;
  if (error instanceof HttpTransportError)
    return new AppError('channel_unavailable', `Meta ${action} failed: network error ${error.code}`, {
      notSent: error.neverConnected,
    });
  const described = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  return new AppError('internal', `Meta ${action} failed unexpectedly: ${described}`, { cause: error });
}
