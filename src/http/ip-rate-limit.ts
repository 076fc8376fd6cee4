/**
 * A per-client-IP limit on the public endpoints: a flood guard, not the per-user limit.
 * Counted in this process, in fixed windows, like nginx's limit_req: with N web replicas behind a load balancer
 * an address gets up to N × IP_RATE_LIMIT_MAX per window. A shared count in Redis cost a round trip on every
 * request (a quarter of the webhook's throughput in `npm run bench`) and made every public request depend on
 * Redis; a guard against floods does not need to be exact across replicas.
 * Signed webhooks are never counted: Twilio posts from a small pool of addresses and does not retry a 429, so a
 * busy number would lose messages to the guard. A POST to a signed path is therefore counted by its route after
 * the signature check, and only when the check fails (or was skipped, or could not run); a body that is neither
 * a form nor carries Meta's X-Hub-Signature-256 is counted at once, and one answered before the check (over the
 * body limit) when it is answered.
 * The client IP is the socket's, or X-Forwarded-For's when TRUST_PROXY is on: behind a proxy without it every
 * request comes from the proxy's address and shares one budget.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';

export interface IpRateLimitOptions {
  /** Requests per IP per window; 0 turns the limit off. */
  max: number;
  windowSeconds: number;
  log: Logger;
  /** Path prefixes never limited: probes and scrapers that poll on a schedule. */
  exempt?: string[];
  /** Paths whose POSTs carry a signature: counted by the route after its check (see IpRateLimit). */
  signedPaths?: string[];
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/** What a route with a signature check tells the guard about a POST to one of `signedPaths`. */
export interface IpRateLimit {
  /** The signature proved the sender: the request is not counted. */
  trust(request: FastifyRequest): void;
  /**
   * The request proved nothing (bad or unchecked signature): count it now. True when it is over the limit and
   * the 429 has been sent; the route then answers nothing more.
   */
  refused(request: FastifyRequest, reply: FastifyReply): boolean;
}

export const DEFAULT_EXEMPT = ['/health', '/metrics'];
export const SIGNED_WEBHOOK_PATHS = [
  '/api/whatsapp/webhook/',
  '/api/whatsapp/status/',
  '/api/whatsapp/meta/webhook/',
];

/** Remember whom we told about for this many IPs at most, so a flood from many addresses cannot grow memory. */
const MAX_TRACKED = 10_000;

const OFF: IpRateLimit = { trust: () => undefined, refused: () => false };

export function registerIpRateLimit(app: FastifyInstance, options: IpRateLimitOptions): IpRateLimit {
  if (options.max <= 0) return OFF;
  const exempt = options.exempt ?? DEFAULT_EXEMPT;
  const signed = new Set((options.signedPaths ?? SIGNED_WEBHOOK_PATHS).map(withoutTrailingSlash));
  const windowMs = options.windowSeconds * 1000;
  const now = options.now ?? Date.now;
  const counter = new FixedWindowCounter(windowMs);
  // One log line per limited IP per window; a flood would otherwise write one per request.
  const loggedUntil = new Map<string, number>();
  // Signed-path POSTs not counted yet: the route settles each one (trust or refused), or onResponse counts it.
  const deferred = new WeakSet<FastifyRequest>();

  /** Count one hit; when over the limit, log (once per IP per window) and send the 429. */
  function limited(request: FastifyRequest, reply: FastifyReply, path: string): boolean {
    const at = now();
    const { count, resetMs } = counter.hit(request.ip, at);
    if (count <= options.max) return false;
    if ((loggedUntil.get(request.ip) ?? 0) <= at) {
      if (loggedUntil.size >= MAX_TRACKED) loggedUntil.clear();
      loggedUntil.set(request.ip, at + windowMs);
      options.log.warn(
        {
          ip: request.ip,
          path,
          limit: options.max,
          windowSeconds: options.windowSeconds,
          requestId: request.id,
        },
        'client IP over the rate limit; answering 429 until the window frees up',
      );
    }
    const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
    void reply
      .status(429)
      .header('retry-after', String(retryAfter))
      .send({ error: 'rate_limited', message: `too many requests; retry in ${retryAfter} s` });
    return true;
  }

  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    if (exempt.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    // The body, and with it the signature's proof, is not parsed yet: the route decides. Only a form (Twilio) or
    // a request with Meta's signature header can carry a valid signature; anything else is counted here.
    if (request.method === 'POST' && signed.has(withoutTrailingSlash(path)) && maySignature(request)) {
      deferred.add(request);
      return;
    }
    if (limited(request, reply, path)) return reply;
  });

  // A signed-path form answered before its route settled it (too large, a timeout): counted, never refused.
  app.addHook('onResponse', (request, _reply, done) => {
    if (deferred.delete(request)) counter.hit(request.ip, now());
    done();
  });

  return {
    trust(request) {
      deferred.delete(request);
    },
    refused(request, reply) {
      if (!deferred.delete(request)) return false;
      return limited(request, reply, pathOf(request));
    },
  };
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

function maySignature(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  if (type.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded') return true;
  return request.headers['x-hub-signature-256'] !== undefined;
}

/** The router ignores a trailing slash, so the guard must too. */
function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/**
 * Hits per key in the current window (windows aligned to the epoch, so every key's window ends together and
 * the whole table can be dropped at once: memory stays bounded by the addresses seen in one window).
 */
export class FixedWindowCounter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  hit(key: string, now: number): { count: number; resetMs: number } {
    const start = now - (now % this.windowMs);
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return { count, resetMs: start + this.windowMs - now };
  }
}
