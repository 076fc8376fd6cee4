/**
 * The HTTP side of the metrics: hooks that count every answered request by route template and status, refused
 * webhook signatures, errors and delivery callbacks; and GET /metrics in Prometheus text, behind a bearer token
 * when one is configured. Register the hooks before the routes, so every route inherits them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { toDeliveryStatus } from '../channels/twilio/inbound.js';
import { isAppError } from '../domain/errors.js';
import { classifyError } from '../observability/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../log.js';
import { registerHealth, type HealthCheck } from './health.js';
import { createServer } from './server.js';

const STATUS_ROUTE = '/api/whatsapp/status/';

export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    const method = request.method;
    metrics.httpRequests.inc({ route, method, status: reply.statusCode });
    metrics.httpDuration.observe({ route, method }, reply.elapsedTime / 1000);
    if (route === STATUS_ROUTE && reply.statusCode === 200) {
      const body = request.body as Record<string, unknown> | undefined;
      const status = typeof body?.MessageStatus === 'string' ? body.MessageStatus : undefined;
      metrics.deliveryStatuses.inc({ channel: 'twilio', status: toDeliveryStatus(status) });
    }
  });
  app.addHook('onError', async (request, _reply, error) => {
    if (isAppError(error) && error.kind === 'bad_signature')
      metrics.signatureFailures.inc({ route: routeOf(request) });
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    // Fastify's own 4xx (malformed body, too large) are the caller's mistakes: WEBHOOK, LOW.
    const { category, severity } =
      !isAppError(error) && typeof statusCode === 'number' && statusCode < 500
        ? ({ category: 'WEBHOOK', severity: 'LOW' } as const)
        : classifyError(error);
    metrics.recordError(category, severity);
  });
}

export interface MetricsEndpointOptions {
  /** When set, the scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
  /**
   * Without a token: serve to anyone (true), or refuse with 403 and the fix (false: production without
   * METRICS_TOKEN or METRICS_PUBLIC=true). Absent: true.
   */
  public?: boolean;
}

/** GET /metrics: the process's registry in Prometheus text format. */
export function registerMetricsEndpoint(
  app: FastifyInstance,
  metrics: Metrics,
  options: MetricsEndpointOptions,
): void {
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (!expected && options.public === false) {
      return reply.status(403).send({
        error: 'forbidden',
        message:
          'set METRICS_TOKEN (and send it as a bearer token), or METRICS_PUBLIC=true to serve /metrics openly',
      });
    }
    if (expected && !matches(request.headers.authorization, expected)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: 'unauthorized', message: 'a bearer token is required' });
    }
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}

export interface MetricsServerOptions extends MetricsEndpointOptions {
  log: Logger;
  metrics: Metrics;
  healthChecks: Record<string, HealthCheck>;
  port: number;
  host: string;
}

/**
 * A process without the web role (a worker, a scheduler) has no HTTP server, yet its metrics (LLM latency,
 * sends, jobs) live there: this small one serves /metrics and /health/ (for container health checks).
 */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = createServer({ log: options.log, bodyLimitBytes: 1024, trustProxy: false });
  instrumentHttp(app, options.metrics);
  registerHealth(app, options.healthChecks);
  registerMetricsEndpoint(app, options.metrics, { token: options.token, public: options.public });
  const url = await app.listen({ port: options.port, host: options.host });
  return { url, close: () => app.close() };
}

/** The route template (bounded label values), never the raw URL; requests that matched no route share one. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

function matches(header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
