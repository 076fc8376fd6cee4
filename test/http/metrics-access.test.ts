/**
 * Who may read /metrics: with METRICS_TOKEN only a scrape with the token; without one, anyone outside production or
 * with METRICS_PUBLIC=true, and in production nobody (403 naming the fix), so traffic and error rates are never
 * public by accident.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { validate, warningsFor } from '../../src/config/load.js';
import { registerMetricsEndpoint } from '../../src/http/metrics.js';
import { createServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/observability/metrics.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The web role's /metrics as this environment configures it. */
function metricsFor(env: Record<string, string>) {
  const result = validate(env);
  if (!result.ok) throw new Error(result.problems.join('; '));
  app = createServer({ log: silentLogger(), bodyLimitBytes: 1024, trustProxy: false });
  registerMetricsEndpoint(app, createMetrics(), {
    token: result.config.metrics.token,
    public: result.config.metrics.public,
  });
  return { app, warnings: result.warnings };
}

describe('/metrics access', () => {
  it('is open outside production without a token', async () => {
    const { app } = metricsFor({});
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('# HELP');
  });

  it('is refused in production without a token, with the fix, and the web role is told at start', async () => {
    const { app, warnings } = metricsFor({ NODE_ENV: 'production' });
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('METRICS_TOKEN');
    expect(response.body).toContain('METRICS_PUBLIC=true');
    expect(response.body).not.toContain('# HELP');
    const warning = warnings.find((w) => w.text.includes('/metrics'));
    expect(warning?.roles).toEqual(['web']);
  });

  it('warns the worker and scheduler too when they serve /metrics on METRICS_PORT', () => {
    const { warnings } = metricsFor({ NODE_ENV: 'production', METRICS_PORT: '9464' });
    expect(warnings.find((w) => w.text.includes('/metrics'))?.roles).toEqual(['web', 'worker', 'scheduler']);
  });

  it('is served in production with METRICS_PUBLIC=true, without a warning', async () => {
    const { app, warnings } = metricsFor({ NODE_ENV: 'production', METRICS_PUBLIC: 'true' });
    expect((await app.inject('/metrics')).statusCode).toBe(200);
    expect(warnings.some((w) => w.text.includes('/metrics'))).toBe(false);
  });

  it('wants the token in production when one is set', async () => {
    const { app } = metricsFor({ NODE_ENV: 'production', METRICS_TOKEN: 'scrape-me' });
    expect((await app.inject('/metrics')).statusCode).toBe(401);
    const scraped = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-me' } });
    expect(scraped.statusCode).toBe(200);
  });
});

describe('warningsFor', () => {
  it('gives each process only the warnings of the settings it uses', () => {
    const result = validate({ NODE_ENV: 'production', SIMULATOR_ENABLED: 'true', ADMIN_ENABLED: 'true' });
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(warningsFor(result.warnings, ['worker'])).toEqual([]);
    const web = warningsFor(result.warnings, ['web']);
    expect(web.some((w) => w.includes('SIMULATOR_ENABLED'))).toBe(true);
    expect(web.some((w) => w.includes('/metrics'))).toBe(true);
    expect(warningsFor(result.warnings, ['web', 'worker', 'scheduler'])).toEqual(web);
  });
});
