import type { FastifyInstance } from 'fastify';

export type FormParams = Record<string, string | string[]>;

/**
 * Parse application/x-www-form-urlencoded exactly as sent: every key kept (repeated keys become arrays) so the
 * signature can be checked over all of them. Fastify applies the body limit before this runs.
 */
export function parseForm(body: string): FormParams {
  const params: FormParams = Object.create(null) as FormParams;
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[key] = [existing, value];
  }
  return params;
}

/** In the calling scope, accept forms only: any other content type gets 415 before a handler runs. */
export function registerFormParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, parseForm(body as string));
    },
  );
}

/** Headers worth keeping in the audit log, without credentials or signatures. */
export function headersForLog(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    kept[name] = SECRET_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-twilio-signature',
  'x-hub-signature-256',
]);
