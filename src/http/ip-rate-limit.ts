/**
 * A per-client-IP limit on the public endpoints: a flood guard, not the per-user limit. Twilio posts from a pool
 * of addresses but a busy number can bring a lot from one, hence a generous default.
 * Counted in this process, in fixed windows, like nginx's limit_req: with N web replicas behind a load balancer
 * an address gets up to N × IP_RATE_LIMIT_MAX per window. A shared count in Redis cost a round trip on every
 * request (a quarter of the webhook's throughput in `npm run bench`) and made every public request depend on
 * Redis; a guard against floods does not need to be exact across replicas.
 * The client IP is the socket's, or X-Forwarded-For's when TRUST_PROXY is on: behind a proxy without it every
 * request comes from the proxy's address and shares one budget.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';

export interface IpRateLimitOptions {
  /** Requests per IP per window; 0 turns the limit off. */
  max: number;
  windowSeconds: number;
  log: Logger;
  /** Path prefixes never limited: probes and scrapers that poll on a schedule. */
  exempt?: string[];
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export const DEFAULT_EXEMPT = ['/health', '/metrics'];

/** Remember whom we told about for this many IPs at most, so a flood from many addresses cannot grow memory. */
const MAX_TRACKED = 10_000;

export function registerIpRateLimit(app: FastifyInstance, options: IpRateLimitOptions): void {
  if (options.max <= 0) return;
  const exempt = options.exempt ?? DEFAULT_EXEMPT;
  const windowMs = options.windowSeconds * 1000;
  const now = options.now ?? Date.now;
  const counter = new FixedWindowCounter(windowMs);
  // One log line per limited IP per window; a flood would otherwise write one per request.
  const loggedUntil = new Map<string, number>();

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (exempt.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    const at = now();
    const { count, resetMs } = counter.hit(request.ip, at);
    if (count <= options.max) return;
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
    return reply
      .status(429)
      .header('retry-after', String(retryAfter))
      .send({ error: 'rate_limited', message: `too many requests; retry in ${retryAfter} s` });
  });
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
