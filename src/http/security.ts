/**
 * Security headers on every response (helmet): a strict Content-Security-Policy for our pages (no inline script
 * or style, no framing, no plugins), nosniff, X-Frame-Options DENY, no referrer. HSTS only when the service is
 * reached over HTTPS: sent over plain HTTP it is ignored at best, and on a LAN deployment it would lock browsers
 * out of the http:// address.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';

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

export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: SecurityHeaderOptions,
): Promise<void> {
  // Awaited so its hooks come first: a response cut short by a later hook (429, 413) still carries the headers.
  await app.register(helmet, {
    // Not helmet's defaults: they allow inline styles and add upgrade-insecure-requests, which breaks http://.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The simulator and admin pages load nothing cross-origin; keep helmet's same-origin isolation.
    crossOriginEmbedderPolicy: false,
  });
  const httpsBase = options.publicBaseUrl?.startsWith('https://') ?? false;
  app.addHook('onRequest', async (request, reply) => {
    if (httpsBase || servedOverHttps(request)) void reply.header('strict-transport-security', HSTS);
  });
}

/**
 * TLS on this socket, or X-Forwarded-Proto: https from a proxy we trust. Fastify reads the header only when
 * `trustProxy` is on (TRUST_PROXY), so a client cannot claim HTTPS on its own.
 */
function servedOverHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}
