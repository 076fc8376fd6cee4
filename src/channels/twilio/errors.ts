/**
 * twilio SDK / network failure → AppError, decided in one place. The worker retries what is retryable and gives
 * up on the rest. Messages carry the HTTP status, Twilio's code and Twilio's own text, never credentials. Every
 * network failure comes from our transport (client.ts over src/infra/http-client.ts) as an HttpTransportError.
 */
import { AppError, isAppError } from '../../domain/errors.js';
import { HttpTransportError } from '../../infra/http-client.js';

interface TwilioHttpError {
  status: number;
  code?: number;
  message: string;
}

/** RestException and TwilioServiceException (RFC 9457 bodies) both carry a numeric status and code. */
function isTwilioHttpError(error: unknown): error is TwilioHttpError {
  return (
    error instanceof Error &&
    typeof (error as { status?: unknown }).status === 'number' &&
    ['undefined', 'number'].includes(typeof (error as { code?: unknown }).code)
  );
}

const PERMANENT_CODES = new Set(['21211', '21408', '21610', '21617', '63016']);

export function mapTwilioError(error: unknown, action: string): AppError {
  if (isAppError(error)) return error;
  if (isTwilioHttpError(error)) {
    const code = error.code === undefined ? undefined : String(error.code);
    const detail = `Twilio ${action} failed (HTTP ${error.status}${code ? `, code ${code}` : ''}): ${error.message}`;
    // Twilio answered with a 4xx: it did not take the message. A 5xx may come after it did.
    const options = { cause: error, notSent: error.status < 500, ...(code ? { code } : {}) };
    if (error.status === 429) return new AppError('channel_rate_limited', detail, options);
    if (code === '20003') return new AppError('channel_auth', detail, options);
    // Invalid number (21211), opted out (21610), outside the 24 h window (63016), too long (21617), region not
    // enabled (21408), …: sending the same thing again cannot succeed, whatever HTTP status came with it.
    if (code !== undefined && PERMANENT_CODES.has(code)) {
      return new AppError('channel_rejected', detail, { ...options, retryable: false });
    }
    if (error.status === 401 || error.status === 403) return new AppError('channel_auth', detail, options);
    if (error.status >= 400 && error.status < 500) {
      return new AppError('channel_rejected', detail, { ...options, retryable: false });
    }
    // 5xx, or something between us and Twilio answering oddly (a 3xx from a proxy).
    return new AppError('channel_unavailable', detail, options);
  }
  // Our transport (client.ts) knows whether a connection was ever made; a reused keep-alive socket was.
  if (error instanceof HttpTransportError) {
    return new AppError('channel_unavailable', `Twilio ${action} failed: network error ${error.code}`, {
      notSent: error.neverConnected,
    });
  }
  return new AppError('internal', `Twilio ${action} failed unexpectedly: ${describe(error)}`, {
    cause: error,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}
