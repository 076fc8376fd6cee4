/**
 * Every failure of an LLM call, from either SDK, becomes one AppError here (openai-node's taxonomy: what can the
 * caller do about it?). Messages are for operators' logs: provider, status, a short reason. They never carry an
 * API key: providers sometimes echo the key (or part of it) back in 401 bodies, so reasons are scrubbed, and the
 * SDK error (which holds the raw body) is replaced by a small scrubbed summary as the cause.
 */
import * as Anthropic from '@anthropic-ai/sdk';
import * as OpenAi from 'openai';
import { AppError, isAppError, type ErrorKind } from '../domain/errors.js';

export interface AiErrorContext {
  provider: string;
  timeoutMs: number;
  /** Values that must never appear in an error (the API key); scrubbed wherever they show up. */
  secrets?: readonly string[];
}

type SdkApiError = OpenAi.APIError | Anthropic.APIError;

const MAX_REASON_LENGTH = 200;

export function toAiError(error: unknown, context: AiErrorContext): AppError {
  if (isAppError(error)) return error;
  const { provider } = context;
  if (isTimeout(error)) {
    return new AppError('ai_timeout', `${provider}: no answer within ${context.timeoutMs} ms`, {
      code: 'timeout',
      cause: summary(error, context),
    });
  }
  if (error instanceof OpenAi.APIConnectionError || error instanceof Anthropic.APIConnectionError) {
    const systemCode = findSystemCode(error);
    const reason = systemCode ?? scrub(error.message, context);
    return new AppError('ai_unavailable', `${provider}: cannot reach the API (${reason})`, {
      code: systemCode ?? 'connection_error',
      cause: summary(error, context),
    });
  }
  if (isSdkApiError(error) && typeof error.status === 'number')
    return fromStatus(error, error.status, context);
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? `: ${scrub(error.message, context)}` : '';
  return new AppError('ai_unavailable', `${provider}: unexpected failure (${name}${message})`, {
    cause: summary(error, context),
  });
}

function fromStatus(error: SdkApiError, status: number, context: AiErrorContext): AppError {
  const code = providerCode(error);
  const reason = scrub(providerReason(error), context);
  const describe = (what: string) =>
    `${context.provider}: HTTP ${status} ${what}${code ? ` [${code}]` : ''}${reason ? `: ${reason}` : ''}`;
  const make = (kind: ErrorKind, what: string, extra: { retryAfterSeconds?: number } = {}) =>
    new AppError(kind, describe(what), { ...extra, code, cause: summary(error, context) });

  if (status === 429) {
    // OpenAI answers 429 when the account has no credit left: waiting will not help, an operator must act.
    if (code === 'insufficient_quota') return make('ai_auth', 'quota exhausted (billing)');
    const retryAfterSeconds = parseRetryAfter(error.headers);
    return make(
      'ai_rate_limited',
      'rate limited',
      retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
    );
  }
  if (status === 401 || status === 403) return make('ai_auth', 'authentication failed (check the API key)');
  // OpenRouter's "insufficient credits": an account problem, like a bad key.
  if (status === 402) return make('ai_auth', 'payment required (out of credits?)');
  if (status === 404)
    return make('ai_bad_request', 'not found (usually an unknown model name: check AI_MODEL)');
  if (status === 408 || status === 409 || status >= 500)
    return make('ai_unavailable', 'provider unavailable');
  if (status >= 400) return make('ai_bad_request', 'request rejected');
  return make('ai_unavailable', 'unexpected response');
}

/** Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), as the SDKs read them. */
export function parseRetryAfter(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds / 1000);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number.parseFloat(value));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function isTimeout(error: unknown): boolean {
  if (
    error instanceof OpenAi.APIConnectionTimeoutError ||
    error instanceof Anthropic.APIConnectionTimeoutError
  ) {
    return true;
  }
  // Our own deadline aborts the request; depending on the phase the SDK surfaces that as its abort error or as
  // the platform's AbortError / TimeoutError.
  if (error instanceof OpenAi.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) return true;
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function isSdkApiError(error: unknown): error is SdkApiError {
  return error instanceof OpenAi.APIError || error instanceof Anthropic.APIError;
}

/** OpenAI puts `code` (or only `type`) in the body's error; Anthropic has `type` and sometimes `error_code`. */
function providerCode(error: SdkApiError): string | undefined {
  if (error instanceof OpenAi.APIError) return nonEmpty(error.code) ?? nonEmpty(error.type);
  return nonEmpty(error.errorCode) ?? nonEmpty(error.type);
}

function providerReason(error: SdkApiError): string {
  if (error instanceof Anthropic.APIError) return error.apiMessage ?? '';
  const body: unknown = error.error;
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return '';
}

/** The errno-style code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…) somewhere down the cause chain. */
function findSystemCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if ('code' in current && typeof current.code === 'string' && current.code !== '') return current.code;
    current = current.cause;
  }
  return undefined;
}

/** What an operator needs from the SDK error (status, ids), without the raw body or headers. */
function summary(error: unknown, context: AiErrorContext): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: typeof error };
  const result: Record<string, unknown> = { name: error.name, message: scrub(error.message, context) };
  if (isSdkApiError(error)) {
    result.status = error.status;
    result.requestId = error.requestID ?? undefined;
  }
  return result;
}

const KEY_PATTERNS: Array<[RegExp, string]> = [
  [/Bearer\s+\S+/gi, 'Bearer [redacted]'],
  // OpenAI (sk-, sk-proj-), OpenRouter (sk-or-), Anthropic (sk-ant-) key shapes, masked or not.
  [/\bsk-[A-Za-z0-9_\-*.]{4,}/g, '[redacted]'],
];

function scrub(text: string, context: AiErrorContext): string {
  let result = text;
  for (const secret of context.secrets ?? []) {
    if (secret.length >= 4) result = result.split(secret).join('[redacted]');
  }
  for (const [pattern, replacement] of KEY_PATTERNS) result = result.replace(pattern, replacement);
  result = result.replace(/\s+/g, ' ').trim();
  return result.length > MAX_REASON_LENGTH ? `${result.slice(0, MAX_REASON_LENGTH - 1)}…` : result;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}
