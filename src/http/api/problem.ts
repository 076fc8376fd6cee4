/**
 * The API's errors: every answer that is not a success is `{"error": {"code", "message"}}`, with a stable code.
 * AppErrors from the use cases keep their kind as the code (forbidden, not_found, …); the HTTP layer's own
 * refusals (a body that does not match, a bad header) are ApiProblems with their status.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HTTP_STATUS, isAppError } from '../../domain/errors.js';

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
  }
}

export interface ApiError {
  error: { code: string; message: string };
}

export function apiError(code: string, message: string): ApiError {
  return { error: { code, message } };
}

/** Fastify's own client errors, by their code: the body could not be read as JSON, or was not JSON at all. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
};

/** The error handler and the not-found handler of the API's scope. */
export function registerApiErrors(
  scope: FastifyInstance,
  onServerError: ((error: unknown, request: FastifyRequest) => void) | undefined,
): void {
  scope.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiProblem) {
      // The 401 has been logged by the auth hook, with why.
      if (error.status !== 401) request.log.warn({ code: error.code }, error.message);
      if (error.status === 401) void reply.header('www-authenticate', 'Bearer');
      return reply.status(error.status).send(apiError(error.code, error.message));
    }
    if (isAppError(error)) {
      const status = HTTP_STATUS[error.kind];
      if (status < 500) {
        request.log.warn({ kind: error.kind }, error.message);
        // invalid_input and conflict carry our more precise tag (invalid_cursor, opted_out, …) when the use case
        // gave one; other kinds' `code` may be a provider's, never shown.
        const tagged = error.kind === 'invalid_input' || error.kind === 'conflict';
        const code = tagged && error.code ? error.code : error.kind;
        return reply.status(status).send(apiError(code, error.message));
      }
      report(error, request);
      return reply.status(status).send(apiError(error.kind, 'service unavailable'));
    }
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const fastifyCode = (error as { code?: unknown }).code;
      const code =
        (typeof fastifyCode === 'string' ? FASTIFY_CODES[fastifyCode] : undefined) ??
        (error instanceof SyntaxError ? 'invalid_json' : 'bad_request');
      request.log.warn({ statusCode, code: fastifyCode }, (error as Error).message);
      return reply.status(statusCode).send(apiError(code, (error as Error).message));
    }
    report(error, request);
    return reply.status(500).send(apiError('internal', 'internal error'));
  });

  // Answers sent before the scope's handlers run (the per-IP flood guard's 429 is sent by a hook of the whole
  // server) carry the server's flat `{error, message}`: reshaped here, so a client parses one error shape.
  scope.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    const flat = parseFlatError(payload);
    return flat ? JSON.stringify(apiError(flat.error, flat.message)) : payload;
  });

  scope.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(apiError('not_found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`)),
  );

  function report(error: unknown, request: FastifyRequest): void {
    if (onServerError) onServerError(error, request);
    else request.log.error({ err: error }, 'unhandled error');
  }
}

function parseFlatError(payload: string): { error: string; message: string } | null {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { error, message } = parsed as { error?: unknown; message?: unknown };
    return typeof error === 'string'
      ? { error, message: typeof message === 'string' ? message : error }
      : null;
  } catch {
    return null;
  }
}
