/**
 * Security headers on every response (helmet): a strict Content-Security-Policy for our pages (no inline script
 * or style, no framing, no plugins), nosniff, X-Frame-Options DENY, no referrer. HSTS only when the service is
 * reached over HTTPS: sent over plain HTTP it is ignored at best, and on a LAN deployment it would lock browsers
 * out of the http:// address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeaderOptions {
  /** Config http.publicBaseUrl: an https:// base means the service is public over HTTPS. */
  publicBaseUrl: string | undefined;
}

/** One year, without includeSubDomains: we cannot know that the operator's other subdomains serve HTTPS. */
export const HSTS = 'max-age=31536000';

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

const HELMET_OPTIONS: HelmetOptions = {
  // Not helmet's defaults: they allow inline styles and add upgrade-insecure-requests, which breaks http://.
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  strictTransportSecurity: false,
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  // The simulator and admin pages load nothing cross-origin; keep helmet's same-origin isolation.
  crossOriginEmbedderPolicy: false,
};

/**
 * helmet's headers for our options, computed once. They depend on nothing in the request (no CSP nonces), and
 * @fastify/helmet rebuilt the middleware (parsing every directive) on every request: ~5 % of the webhook's CPU.
 */
export function securityHeaders(): Record<string, string> {
  const headers = new Map<string, string>();
  // helmet only calls setHeader and removeHeader (X-Powered-By) on the response, and reads nothing else.
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  const request: unknown = {};
  helmet(HELMET_OPTIONS)(request as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return Object.fromEntries(headers);
}

export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeaderOptions): void {
  const headers = securityHeaders();
  const httpsBase = options.publicBaseUrl?.startsWith('https://') ?? false;
  // The first onRequest hook, so a response cut short by a later hook (429, 413) still carries the headers.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers);
    if (httpsBase || servedOverHttps(request)) void reply.header('strict-transport-security', HSTS);
    done();
  });
}

/**
 * TLS on this socket, or X-Forwarded-Proto: https from a proxy we trust. Fastify reads the header only when
 * `trustProxy` is on (TRUST_PROXY), so a client cannot claim HTTPS on its own.
 */
function servedOverHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}
