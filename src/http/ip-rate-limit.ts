/**
 * A per-client-IP limit on the public endpoints, counted through the RateLimiter port (the Redis sliding window in
 * production, so every web process shares one count). Twilio posts from a pool of addresses but a busy number can
 * bring a lot from one, hence a generous default; it is a guard against floods, not the per-user limit.
 * The client IP is the socket's, or X-Forwarded-For's when TRUST_PROXY is on: behind a proxy without it every
 * request comes from the proxy's address and shares one budget.
 * If the limiter's backend is down the request goes through: a Redis outage must never turn away Twilio.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { RateLimiter } from '../ports.js';

export interface IpRateLimitOptions {
  limiter: RateLimiter;
  /** Requests per IP per window; 0 turns the limit off. */
  max: number;
  windowSeconds: number;
  log: Logger;
  /** Path prefixes never limited: probes and scrapers that poll on a schedule. */
  exempt?: string[];
}

export const DEFAULT_EXEMPT = ['/health', '/metrics'];

/** The limiter gets this long to answer before the request goes through uncounted. */
const LIMITER_TIMEOUT_MS = 250;
/** At most one "limiter down" warning per this interval, not one per request. */
const WARN_INTERVAL_MS = 60_000;
/** Remember whom we told about for this many IPs at most, so a flood from many addresses cannot grow memory. */
const MAX_TRACKED = 10_000;

export function registerIpRateLimit(app: FastifyInstance, options: IpRateLimitOptions): void {
  if (options.max <= 0) return;
  const exempt = options.exempt ?? DEFAULT_EXEMPT;
  const windowMs = options.windowSeconds * 1000;
  let lastWarnedAt = 0;
  // One log line per limited IP per window; a flood would otherwise write one per request.
  const loggedUntil = new Map<string, number>();

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (exempt.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    let decision;
    try {
      decision = await withTimeout(
        options.limiter.hit(`ip:${request.ip}`, options.max, options.windowSeconds),
      );
    } catch (error) {
      const now = Date.now();
      if (now - lastWarnedAt >= WARN_INTERVAL_MS) {
        lastWarnedAt = now;
        options.log.warn({ err: error }, 'IP rate limiter unavailable; requests are let through uncounted');
      }
      return;
    }
    if (decision.allowed) return;
    const now = Date.now();
    if ((loggedUntil.get(request.ip) ?? 0) <= now) {
      if (loggedUntil.size >= MAX_TRACKED) loggedUntil.clear();
      loggedUntil.set(request.ip, now + windowMs);
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
    const retryAfter = Math.max(1, Math.ceil(decision.resetMs / 1000));
    return reply
      .status(429)
      .header('retry-after', String(retryAfter))
      .send({ error: 'rate_limited', message: `too many requests; retry in ${retryAfter} s` });
  });
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${LIMITER_TIMEOUT_MS} ms`)),
      LIMITER_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
