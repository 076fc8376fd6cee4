/**
 * Phase 1: the webhook under sustained signed load, ours against the reference, in the same run, best of N
 * rounds taken alternately so neither side always runs on a warmer machine.
 */
import { join } from 'node:path';
import { freePort } from '../test/helpers/tcp-proxy.js';
import { AUTH_TOKEN, WEBHOOK_PATH, appEnv } from './app-env.js';
import type { BenchContext, CpuShare } from './context.js';
import type { LoadResult } from './load.js';
import { runLoadProcess } from './load-process.js';
import { mainThreadProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { cpuMeter, pidsByName, rssMb, rssPeak } from './proc.js';
import { closeQueue, openQueue } from './services.js';
import { spawnTs, waitForHttp, type Child } from './processes.js';

export const WEBHOOK_CONCURRENCY = 32;

export interface WebhookRun {
  load: LoadResult;
  cpu: Record<string, CpuShare>;
  idleRssMb: number;
  peakRssMb: number;
}

export interface WebhookResults {
  reference: WebhookRun;
  ours: WebhookRun;
  rounds: number;
  warmupMs: number;
  durationMs: number;
}

interface Server {
  child: Child;
  url: string;
}

async function startReference(context: BenchContext): Promise<Server> {
  const options = {
    port: 0,
    databaseUrl: context.database.url,
    redisUrl: context.redisUrl,
    redisKey: `${context.redisPrefix}:reference:inbound`,
    authToken: AUTH_TOKEN,
    poolSize: 10,
  };
  const child = spawnTs('reference server', 'bench/reference-server.ts', [JSON.stringify(options)], {
    env: {},
  });
  const [, origin] = await child.line(/^listening (\S+)$/, 30_000);
  return { child, url: `${origin ?? ''}${WEBHOOK_PATH}` };
}

/** Our web role alone; its jobs go to a queue prefix no worker consumes. */
export async function startOurWeb(context: BenchContext, nodeArgs: string[] = []): Promise<Server> {
  const port = await freePort();
  const env = appEnv({
    port,
    databaseUrl: context.database.url,
    redisUrl: context.redisUrl,
    redisPrefix: `${context.redisPrefix}:webhook-only`,
  });
  const child = spawnTs('web (webhook phase)', 'src/main/web.ts', [], { env, nodeArgs });
  await waitForHttp(`http://127.0.0.1:${port}/health/`, child);
  return { child, url: `http://127.0.0.1:${port}${WEBHOOK_PATH}` };
}

/** Closed-loop load against one server, measuring who used the CPU during the window. */
export async function loadServer(
  context: BenchContext,
  server: Server,
  timing: { warmupMs: number; durationMs: number },
): Promise<Omit<WebhookRun, 'idleRssMb'>> {
  let loadPid = 0;
  const meter = cpuMeter({
    server: () => [server.child.pid],
    'load generator': () => (loadPid ? [loadPid] : []),
    postgres: () => pidsByName(['postgres']),
    redis: () => pidsByName(['redis-server']),
    'bench process': () => [process.pid],
  });
  const peak = rssPeak({ server: server.child.pid });
  let cpu: Record<string, CpuShare> = {};
  // Enough payloads for 8000 requests/s, far above what this machine reaches; a run that uses them up says so.
  const count = Math.ceil(((timing.warmupMs + timing.durationMs) / 1000) * 8000);
  const load = await runLoadProcess(
    {
      url: server.url,
      concurrency: WEBHOOK_CONCURRENCY,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      payloads: {
        count,
        tag: context.tag(),
        firstUser: context.users(5000),
        users: 5000,
        authToken: AUTH_TOKEN,
        signedUrl: server.url,
      },
    },
    {
      onWindow: (child) => {
        loadPid = child.pid;
        meter.start();
      },
      onDone: () => {
        cpu = meter.stop();
      },
    },
  );
  return { load, cpu, peakRssMb: peak.stop().server ?? Number.NaN };
}

async function idleRss(child: Child): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return rssMb(child.pid) ?? Number.NaN;
}

function better(a: WebhookRun | undefined, b: WebhookRun): WebhookRun {
  return a && a.load.requestsPerSecond >= b.load.requestsPerSecond ? a : b;
}

export async function webhookPhase(context: BenchContext): Promise<WebhookResults> {
  const timing = { warmupMs: 2000, durationMs: context.quick ? 5000 : 10_000 };
  const rounds = context.quick ? 1 : 2;
  let reference: WebhookRun | undefined;
  let ours: WebhookRun | undefined;
  for (let round = 1; round <= rounds; round++) {
    for (const side of ['reference', 'ours'] as const) {
      context.log(`webhook round ${round}/${rounds}: ${side}`);
      const server = side === 'reference' ? await startReference(context) : await startOurWeb(context);
      try {
        const idleRssMb = await idleRss(server.child);
        const run = { ...(await loadServer(context, server, timing)), idleRssMb };
        context.log(
          `  ${Math.round(run.load.requestsPerSecond)} req/s, p50 ${run.load.latencyMs.p50.toFixed(1)} ms, p99 ${run.load.latencyMs.p99.toFixed(1)} ms, ${run.load.errors} errors`,
        );
        if (side === 'reference') reference = better(reference, run);
        else ours = better(ours, run);
      } finally {
        await server.child.stop();
      }
    }
  }
  await drainUnconsumedQueue(context);
  if (!reference || !ours) throw new Error('webhook phase produced no result');
  return { reference, ours, rounds, ...timing };
}

/** The webhook-only queue has no consumer: empty it so the jobs do not sit in Redis until the end. */
async function drainUnconsumedQueue(context: BenchContext): Promise<void> {
  const queue = openQueue(context.redisUrl, `${context.redisPrefix}:webhook-only`);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await closeQueue(queue);
}

/** Our web under the same load with `node --cpu-prof`; a separate run, so profiling does not skew the figures. */
export async function profileOurWeb(context: BenchContext): Promise<ProfileSummary | undefined> {
  context.log('profile: web under webhook load (node --cpu-prof)');
  const dir = join(context.workDir, 'web-profile');
  const server = await startOurWeb(context, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    await loadServer(context, server, { warmupMs: 2000, durationMs: 5000 });
  } finally {
    await server.child.stop();
  }
  await drainUnconsumedQueue(context);
  const file = mainThreadProfile(dir, server.child.pid, 'web');
  return file === undefined ? undefined : summarizeProfile(file);
}
