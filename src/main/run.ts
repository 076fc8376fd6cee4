import type { Server } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validate, warningsFor, type Config } from '../config/load.js';
import { createServer } from '../http/server.js';
import { registerHealth } from '../http/health.js';
import { registerIpRateLimit } from '../http/ip-rate-limit.js';
import { registerSecurityHeaders } from '../http/security.js';
import { reporterFromConfig } from '../errors/from-config.js';
import { createMemoryLocks } from '../infra/memory/locks.js';
import { instrumentHttp, registerMetricsEndpoint, startMetricsServer } from '../http/metrics.js';
import { instrumentJobHandler } from '../observability/instrument.js';
import { registerMetaWebhook } from '../http/meta-webhook.js';
import { registerTwilioWebhook } from '../http/twilio-webhook.js';
import { registerSimulator } from '../http/simulator/routes.js';
import { registerAdmin } from '../admin/routes.js';
import { registerPublicMedia } from '../http/public-media.js';
import { mediaUrlKey } from '../security/media-url.js';
import { registerApi } from '../http/api/routes.js';
import { adminOptionsFrom, sessionSecretFrom } from '../admin/settings.js';
import { createLogger, type Logger } from '../log.js';
import { processConversation } from '../pipeline/process-conversation.js';
import { sweep } from '../pipeline/sweep.js';
import { knownPseudonymsFrom, pseudonymizerFrom } from '../security/pseudonym.js';
import { compose, type Composed } from './compose.js';
import { loadDotEnv } from './env.js';
import { explainStartFailure } from './start-failure.js';

export type Role = 'web' | 'worker' | 'scheduler';

export interface Running {
  composed: Composed;
  /** The address the web role listens on, when it runs. */
  url: string | undefined;
  stop(): Promise<void>;
}

/** Start the given roles in this process: `start` runs all three, `web`/`worker`/`scheduler` one each. */
export async function startRoles(roles: Role[], config: Config, log: Logger): Promise<Running> {
  const composed = await compose(config, log, { migrate: config.autoMigrate });
  const stops: Array<() => Promise<void>> = [];
  let url: string | undefined;
  try {
    if (roles.includes('worker')) {
      const handler = instrumentJobHandler(
        (job, context) => processConversation(composed.deps, job, context),
        composed.metrics,
      );
      await composed.deps.queue.consume(handler, { concurrency: config.worker.concurrency });
    }
    if (roles.includes('scheduler')) {
      const settings = {
        strandedAfterMs: config.scheduler.strandedAfterMs,
        sessionTimeoutMs: config.conversation.sessionTimeoutMs,
        webhookLogRetentionDays: config.scheduler.webhookLogRetentionDays,
        handoffIdleMs: config.handoff.idleMs,
        retentionDays: config.scheduler.retentionDays,
      };
      // The first round this process runs examines every inactive conversation for retention (one a crash left
      // behind); later rounds only those they emptied.
      let caughtUp = false;
      const round = () =>
        sweep(composed.deps, { ...settings, retentionCatchUp: !caughtUp }, config.scheduler.sweepIntervalMs)
          .then((result) => {
            if (result) {
              caughtUp = true;
              composed.metrics.recordRetention(result.retention);
            }
          })
          .catch((error: unknown) => composed.errors.report(error, { context: { task: 'sweep' } }));
      const timer = setInterval(() => void round(), config.scheduler.sweepIntervalMs);
      void round();
      stops.push(() => {
        clearInterval(timer);
        return Promise.resolve();
      });
    }
    if (roles.includes('web')) {
      // 5xx answers (PostgreSQL down → 503 is CRITICAL DATABASE) are logged and alerted by the reporter.
      const onServerError = (error: unknown, request: FastifyRequest) =>
        void composed.errors.report(error, {
          context: { requestId: request.id, method: request.method, path: request.url.split('?')[0] },
        });
      const app = createServer({
        log: log.child({ area: 'http' }),
        bodyLimitBytes: config.http.bodyLimitBytes,
        trustProxy: config.http.trustProxy,
        onServerError,
      });
      registerSecurityHeaders(app, { publicBaseUrl: config.http.publicBaseUrl });
      const ipRateLimit = registerIpRateLimit(app, {
        max: config.http.ipRateLimit.max,
        windowSeconds: config.http.ipRateLimit.windowSeconds,
        log: log.child({ area: 'http' }),
      });
      if (config.metrics.enabled) {
        instrumentHttp(app, composed.metrics);
        registerMetricsEndpoint(app, composed.metrics, {
          token: config.metrics.token,
          public: config.metrics.public,
        });
      }
      registerHealth(app, composed.healthChecks);
      registerTwilioWebhook(app, composed.deps, {
        twilio: config.twilio,
        skipSignature: config.skipWebhookSignature,
        publicBaseUrl: config.http.publicBaseUrl,
        trustProxy: config.http.trustProxy,
        ipRateLimit,
      });
      registerMetaWebhook(app, composed.deps, {
        numbers: composed.numbers,
        meta: config.meta,
        ipRateLimit,
      });
      if (composed.simulator) registerSimulator(app, composed.deps, composed.simulator);
      registerPublicMedia(app, composed.deps, mediaUrlKey(sessionSecretFrom(config)));
      if (config.admin.enabled)
        registerAdmin(app, composed.deps, {
          ...adminOptionsFrom(config),
          refreshNumbers: () => composed.numbers.refresh(),
        });
      registerApi(app, composed.deps, {
        onServerError,
        dataRights: {
          pseudonymize: pseudonymizerFrom(config),
          knownPseudonyms: knownPseudonymsFrom(config),
          webhookLogRetentionDays: config.scheduler.webhookLogRetentionDays,
        },
      });
      registerRoot(app, { simulator: composed.simulator !== undefined, admin: config.admin.enabled });
      await app.listen({ port: config.http.port, host: config.http.host });
      url = browsableUrl(config.http.host, app.server.address());
      // The web server stops first so no new message is accepted while the rest shuts down.
      stops.unshift(() => app.close());
    } else if (config.metrics.enabled && config.metrics.port !== undefined) {
      const server = await startMetricsServer({
        log: log.child({ area: 'http' }),
        metrics: composed.metrics,
        token: config.metrics.token,
        public: config.metrics.public,
        healthChecks: composed.healthChecks,
        port: config.metrics.port,
        host: config.http.host,
      });
      stops.push(() => server.close());
    }
  } catch (error) {
    for (const stop of stops) await stop();
    await composed.close();
    throw error;
  }
  return {
    composed,
    url,
    stop: async () => {
      for (const stop of stops) await stop();
      await composed.close();
    },
  };
}

/**
 * `GET /`: someone opened the address the start banner printed. Send them to the simulator when it runs, else
 * to the admin, else name the endpoints in a line of text.
 */
function registerRoot(app: FastifyInstance, enabled: { simulator: boolean; admin: boolean }): void {
  app.get('/', async (_request, reply) => {
    if (enabled.simulator) return reply.redirect('/simulator/', 302);
    if (enabled.admin) return reply.redirect('/admin/', 302);
    return reply
      .type('text/plain; charset=utf-8')
      .send(
        'whatsapp-ai-chatbot: POST /api/whatsapp/webhook/ (Twilio), POST /api/whatsapp/status/, GET /health/, /api/v1/ (operators API, GET /api/v1/openapi.json)\n',
      );
  });
}

/**
 * The URL a person can open for the server: a wildcard listen address (0.0.0.0, ::) is not one, so it becomes
 * localhost; the port is the one really bound (PORT=0 picks any).
 */
export function browsableUrl(host: string, address: ReturnType<Server['address']>): string | undefined {
  if (address === null || typeof address === 'string') return address ?? undefined;
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${address.port}`;
}

/** The process entry: config (every problem at once, then exit 1), logger, roles, signals. */
export async function main(roles: Role[]): Promise<void> {
  // Under `npm start` the parent is the shell npm runs the script in: read now, before it can go.
  const parentAtStart = process.ppid;
  try {
    loadDotEnv();
  } catch (error) {
    process.stderr.write(`whatsapp-ai-chatbot cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const result = validate(process.env);
  if (!result.ok) {
    process.stderr.write(
      `whatsapp-ai-chatbot cannot start: the configuration has ${result.problems.length} problem(s):\n` +
        result.problems.map((p) => `  ✗ ${p}`).join('\n') +
        '\nFix them in the environment or in .env (see .env.example), then start again.\n',
    );
    process.exit(1);
  }
  const { config, warnings } = result;
  const log = createLogger({
    level: config.log.level,
    pretty: process.stdout.isTTY,
    dir: config.log.dir,
    areaLevels: config.log.areaLevels,
  });
  for (const warning of warningsFor(warnings, roles)) log.warn(warning);
  let running: Running;
  try {
    running = await startRoles(roles, config, log);
  } catch (error) {
    // Logged as CRITICAL and alerted (no shared throttle: this process is about to exit).
    const explained = explainStartFailure(error, { web: config.http.port, metrics: config.metrics.port });
    await reporterFromConfig(config, log, createMemoryLocks()).report(
      explained === null ? error : new Error(explained, { cause: error }),
      {
        severity: 'CRITICAL',
        context: { stage: 'start', roles: roles.join(',') },
        expected: explained !== null,
      },
    );
    process.exit(1);
  }
  const simulatorUrl = running.url && running.composed.simulator ? `${running.url}/simulator/` : undefined;
  const where = `(${roles.join(' + ')})${running.url ? ` on ${running.url}` : ''}`;
  if (running.composed.databaseReady())
    log.info(
      { roles, adapters: running.composed.describe, url: running.url, simulatorUrl },
      `whatsapp-ai-chatbot ready ${where}` +
        (simulatorUrl ? `; open ${simulatorUrl} to chat with the bot` : ''),
    );
  // Never "ready" after a CRITICAL about the database: started, and waiting for it.
  else
    log.warn(
      { roles, adapters: running.composed.describe, url: running.url },
      `whatsapp-ai-chatbot started ${where}, NOT ready: waiting for the database (see above)`,
    );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work, finishing what is in flight');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.worker.shutdownTimeoutMs + 5000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // npm forwards a SIGTERM to the `sh -c` it runs the script in, and the shell dies without passing it on; the
  // server would keep running, orphaned, holding the port. So under npm, a parent that goes away (this process
  // is re-parented) is a SIGTERM.
  if (process.env.npm_lifecycle_event) {
    const watch = setInterval(() => {
      if (process.ppid === parentAtStart) return;
      clearInterval(watch);
      log.warn({ parentPid: parentAtStart }, 'parent process exited; shutting down');
      shutdown('parent exited');
    }, 1000);
    watch.unref();
  }
}
