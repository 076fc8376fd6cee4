import type { FastifyInstance } from 'fastify';

/** A named dependency check: resolves with details when healthy, throws when not. */
export type HealthCheck = () => Promise<Record<string, unknown> | undefined>;

const CHECK_TIMEOUT_MS = 2000;

/** GET /health/: 200 with every dependency's status, or 503 naming what is down. */
export function registerHealth(app: FastifyInstance, checks: Record<string, HealthCheck>): void {
  app.get('/health/', async (_request, reply) => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        const started = performance.now();
        try {
          const details = await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [
            name,
            { status: 'up', latencyMs: Math.round(performance.now() - started), ...details },
          ] as const;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          return [name, { status: 'down', error: reason }] as const;
        }
      }),
    );
    const down = entries.filter(([, result]) => result.status === 'down').map(([name]) => name);
    return reply.status(down.length === 0 ? 200 : 503).send({
      status: down.length === 0 ? 'healthy' : 'unhealthy',
      ...(down.length > 0 ? { down } : {}),
      checks: Object.fromEntries(entries) as Record<string, unknown>,
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
