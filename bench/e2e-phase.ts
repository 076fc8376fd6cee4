/**
 * Phase 2: whole conversations, webhook → queue → fake LLM → fake Twilio, on our real web and worker processes.
 *
 * Latency runs post at a fixed, modest rate (open loop) with the queue running: the added latency is what the
 * pipeline costs a message when it is not waiting behind others. Throughput runs pause the queue, post a backlog
 * through the webhook, then resume it: the worker's drain rate is measured without the web competing for the
 * CPU, and each process's CPU is counted only for its own part of the work.
 */
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { freePort } from '../test/helpers/tcp-proxy.js';
import { ACCOUNT_SID, AUTH_TOKEN, WEBHOOK_PATH, appEnv } from './app-env.js';
import type { BenchContext, CpuShare } from './context.js';
import { startBenchFakes, type BenchFakes } from './fakes.js';
import { runLoadProcess } from './load-process.js';
import { mainThreadProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { cpuMeter, pidsByName, rssMb, rssPeak } from './proc.js';
import { spawnTs, waitForHttp, type Child } from './processes.js';
import { closeQueue, committedTransactions, openQueue } from './services.js';
import { steadyRate, summarize, type Summary } from './stats.js';
import { e2eTargets } from './targets.js';

export interface LatencyRun {
  llmDelayMs: number;
  concurrency: number;
  ratePerSecond: number;
  messages: number;
  delivered: number;
  /** Twilio send received − webhook posted − LLM delay, in ms. */
  addedMs: Summary;
}

export interface ThroughputRun {
  llmDelayMs: number;
  concurrency: number;
  messages: number;
  delivered: number;
  messagesPerSecond: number;
  /** concurrency × 1000 / LLM delay: what a worker that costs nothing would reach. */
  idealPerSecond: number;
  webCpuMsPerMessage: number;
  workerCpuMsPerMessage: number;
  servicesCpuMsPerMessage: number;
  /** PostgreSQL transactions committed per message, web and worker together. */
  transactionsPerMessage: number;
  workerPeakRssMb: number;
  ingestCpu: Record<string, CpuShare>;
  drainCpu: Record<string, CpuShare>;
}

export interface E2eResults {
  latency: LatencyRun[];
  throughput: ThroughputRun[];
  webIdleRssMb: number;
  workerIdleRssMb: number;
  webPeakRssMb: number;
  /** A CPU profile of the worker under load, taken when an end-to-end target was missed. */
  workerProfile?: ProfileSummary | undefined;
}

interface Pipeline {
  context: BenchContext;
  fakes: BenchFakes;
  web: Child;
  webUrl: string;
  port: number;
  prefix: string;
  queue: Queue;
  worker: Child | undefined;
  workerConcurrency: number;
  workerNodeArgs: string[];
}

function envFor(pipeline: Pipeline, concurrency: number): Record<string, string> {
  return appEnv({
    port: pipeline.port,
    databaseUrl: pipeline.context.database.url,
    redisUrl: pipeline.context.redisUrl,
    redisPrefix: pipeline.prefix,
    twilioUrl: pipeline.fakes.twilio.url,
    llmBaseUrl: pipeline.fakes.llm.openaiBaseUrl,
    workerConcurrency: concurrency,
  });
}

/** A worker process with this concurrency, started fresh unless the running one already has it. */
export async function useWorker(
  pipeline: Pipeline,
  concurrency: number,
  nodeArgs: string[] = [],
): Promise<Child> {
  const same = nodeArgs.join(' ') === pipeline.workerNodeArgs.join(' ');
  if (pipeline.worker && pipeline.workerConcurrency === concurrency && same) return pipeline.worker;
  if (pipeline.worker) await pipeline.worker.stop();
  const worker = spawnTs(`worker (concurrency ${concurrency})`, 'src/main/worker.ts', [], {
    env: envFor(pipeline, concurrency),
    nodeArgs,
  });
  pipeline.worker = worker;
  pipeline.workerConcurrency = concurrency;
  pipeline.workerNodeArgs = nodeArgs;
  // The worker has no HTTP port: it is ready once BullMQ lists it among the queue's workers.
  const deadline = Date.now() + 30_000;
  while ((await pipeline.queue.getWorkersCount()) < 1) {
    if (worker.process.exitCode !== null)
      throw new Error(`worker exited while starting:\n${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`worker did not start within 30 s:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await warmUp(pipeline, WARM_UP_MESSAGES);
  return worker;
}

/**
 * The same for every fresh worker, whatever its concurrency. It used to scale with the concurrency (50 for 1 and
 * 10, 100 for 100): those workers were measured while V8 was still optimising the hot path, which made their CPU
 * per message look 15–40 % higher than a warmed worker's (2026-11-26, quick runs: concurrency 100, 2.88 against
 * 2.55 ms; concurrency 10, 5.5 against 3.5 ms). A worker in production runs for days.
 */
const WARM_UP_MESSAGES = 300;

/**
 * Unmeasured messages through the fresh worker first: its first jobs load the SDKs' modules and run cold code,
 * which is start-up cost, not the cost of a message.
 */
async function warmUp(pipeline: Pipeline, messages: number): Promise<void> {
  const { context } = pipeline;
  pipeline.fakes.setLlmDelay(0);
  const load = await runLoadProcess({
    url: pipeline.webUrl,
    concurrency: 16,
    recordSends: true,
    payloads: {
      count: messages,
      tag: context.tag(),
      firstUser: context.users(messages),
      users: messages,
      authToken: AUTH_TOKEN,
      signedUrl: pipeline.webUrl,
    },
  });
  await arrivals(pipeline, new Set(load.sends.map(([marker]) => marker)), 60_000);
}

export async function startPipeline(context: BenchContext): Promise<Pipeline> {
  const fakes = await startBenchFakes({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const port = await freePort();
  const prefix = `${context.redisPrefix}:e2e`;
  const pipeline: Pipeline = {
    context,
    fakes,
    port,
    prefix,
    webUrl: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    queue: openQueue(context.redisUrl, prefix),
    worker: undefined,
    workerConcurrency: 0,
    workerNodeArgs: [],
    web: undefined as unknown as Child,
  };
  pipeline.web = spawnTs('web (end to end)', 'src/main/web.ts', [], { env: envFor(pipeline, 1) });
  await waitForHttp(`http://127.0.0.1:${port}/health/`, pipeline.web);
  return pipeline;
}

export async function stopPipeline(pipeline: Pipeline): Promise<void> {
  await Promise.all([pipeline.worker?.stop(), pipeline.web.stop()]);
  await closeQueue(pipeline.queue);
  await pipeline.fakes.close();
}

/** Wait until every marker has reached the fake Twilio (or the time is up); marker → arrival epoch ms. */
async function arrivals(
  pipeline: Pipeline,
  markers: Set<string>,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < markers.size && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [marker, at] of pipeline.fakes.takeArrivals()) if (markers.has(marker)) seen.set(marker, at);
  }
  if (seen.size < markers.size)
    pipeline.context.log(
      `  only ${seen.size} of ${markers.size} replies arrived within ${timeoutMs / 1000} s`,
    );
  return seen;
}

export async function latencyRun(
  pipeline: Pipeline,
  options: { llmDelayMs: number; concurrency: number; ratePerSecond: number; seconds: number },
): Promise<LatencyRun> {
  const { context } = pipeline;
  await useWorker(pipeline, options.concurrency);
  pipeline.fakes.setLlmDelay(options.llmDelayMs);
  const messages = Math.round(options.ratePerSecond * options.seconds);
  context.log(`latency: ${messages} messages at ${options.ratePerSecond}/s, LLM ${options.llmDelayMs} ms`);
  const result = await runLoadProcess({
    url: pipeline.webUrl,
    concurrency: 64,
    ratePerSecond: options.ratePerSecond,
    recordSends: true,
    payloads: {
      count: messages,
      tag: context.tag(),
      firstUser: context.users(messages),
      users: messages,
      authToken: AUTH_TOKEN,
      signedUrl: pipeline.webUrl,
    },
  });
  const sent = new Map(result.sends);
  const arrived = await arrivals(pipeline, new Set(sent.keys()), 30_000 + options.llmDelayMs);
  const added: number[] = [];
  for (const [marker, at] of arrived) added.push(at - (sent.get(marker) ?? at) - options.llmDelayMs);
  const addedMs = summarize(added);
  context.log(`  added latency p50 ${addedMs.p50.toFixed(1)} ms, p99 ${addedMs.p99.toFixed(1)} ms`);
  return { ...options, messages, delivered: arrived.size, addedMs };
}

export async function throughputRun(
  pipeline: Pipeline,
  options: { llmDelayMs: number; concurrency: number; messages: number; nodeArgs?: string[] },
): Promise<ThroughputRun> {
  const { context, queue } = pipeline;
  const worker = await useWorker(pipeline, options.concurrency, options.nodeArgs);
  pipeline.fakes.setLlmDelay(options.llmDelayMs);
  context.log(
    `throughput: ${options.messages} messages, LLM ${options.llmDelayMs} ms, worker concurrency ${options.concurrency}`,
  );
  await queue.pause();
  const xactsBefore = await committedTransactions(context.database.name);
  // Ingest: the web's CPU per message.
  let loadPid = 0;
  const ingestMeter = cpuMeter({
    web: () => [pipeline.web.pid],
    'load generator': () => (loadPid ? [loadPid] : []),
    postgres: () => pidsByName(['postgres']),
    redis: () => pidsByName(['redis-server']),
    'bench process (fakes)': () => [process.pid],
  });
  ingestMeter.start();
  let ingestCpu: Record<string, CpuShare> = {};
  const load = await runLoadProcess(
    {
      url: pipeline.webUrl,
      concurrency: 32,
      recordSends: true,
      payloads: {
        count: options.messages,
        tag: context.tag(),
        firstUser: context.users(options.messages),
        users: options.messages,
        authToken: AUTH_TOKEN,
        signedUrl: pipeline.webUrl,
      },
    },
    {
      onWindow: (child) => (loadPid = child.pid),
      // Read while the load generator still exists: once it has exited its CPU can no longer be read.
      onDone: () => (ingestCpu = ingestMeter.stop()),
    },
  );
  // Drain: the worker's CPU per message and its rate.
  const meter = cpuMeter({
    worker: () => [worker.pid],
    postgres: () => pidsByName(['postgres']),
    redis: () => pidsByName(['redis-server']),
    'bench process (fakes)': () => [process.pid],
  });
  const peak = rssPeak({ worker: worker.pid });
  meter.start();
  const resumedAt = Date.now();
  await queue.resume();
  const markers = new Set(load.sends.map(([marker]) => marker));
  const idealPerSecond = (options.concurrency * 1000) / Math.max(options.llmDelayMs, 1);
  const expectedSeconds = options.messages / Math.min(idealPerSecond, 400);
  const arrived = await arrivals(pipeline, markers, 30_000 + expectedSeconds * 3000);
  const drainCpu = meter.stop();
  const drainMs = Date.now() - resumedAt;
  const xacts = (await committedTransactions(context.database.name)) - xactsBefore;
  const servicesCpu = (cpu: Record<string, CpuShare>) => (cpu.postgres?.ms ?? 0) + (cpu.redis?.ms ?? 0);
  const messagesPerSecond = steadyRate([...arrived.values()]);
  const delivered = arrived.size || 1;
  const run: ThroughputRun = {
    llmDelayMs: options.llmDelayMs,
    concurrency: options.concurrency,
    messages: options.messages,
    delivered: arrived.size,
    messagesPerSecond,
    idealPerSecond,
    webCpuMsPerMessage: (ingestCpu.web?.ms ?? 0) / options.messages,
    workerCpuMsPerMessage: (drainCpu.worker?.ms ?? 0) / delivered,
    transactionsPerMessage: xacts / delivered,
    servicesCpuMsPerMessage: (servicesCpu(ingestCpu) + servicesCpu(drainCpu)) / delivered,
    workerPeakRssMb: peak.stop().worker ?? Number.NaN,
    ingestCpu,
    drainCpu,
  };
  context.log(
    `  ${messagesPerSecond.toFixed(1)} messages/s in ${(drainMs / 1000).toFixed(1)} s; CPU/message web ${run.webCpuMsPerMessage.toFixed(2)} ms + worker ${run.workerCpuMsPerMessage.toFixed(2)} ms`,
  );
  return run;
}

export interface E2ePlan {
  latency: Array<{ llmDelayMs: number; concurrency: number; ratePerSecond: number; seconds: number }>;
  throughput: Array<{ llmDelayMs: number; concurrency: number; messages: number }>;
}

export function e2ePlan(quick: boolean): E2ePlan {
  const seconds = quick ? 4 : 6;
  return {
    latency: [
      { llmDelayMs: 0, concurrency: 200, ratePerSecond: 50, seconds },
      { llmDelayMs: 1000, concurrency: 500, ratePerSecond: 50, seconds },
    ],
    throughput: [
      { llmDelayMs: 0, concurrency: 200, messages: quick ? 1000 : 2000 },
      ...[1, 10, 100, 500].map((concurrency) => ({
        llmDelayMs: 1000,
        concurrency,
        messages: Math.max(10, concurrency * seconds),
      })),
    ],
  };
}

/** The worker draining a backlog at 1000 ms LLM latency, concurrency 500, under `node --cpu-prof`. */
async function profileWorker(pipeline: Pipeline): Promise<ProfileSummary | undefined> {
  pipeline.context.log('profile: worker draining a backlog (node --cpu-prof)');
  const dir = join(pipeline.context.workDir, 'worker-profile');
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  await throughputRun(pipeline, {
    llmDelayMs: 1000,
    concurrency: 500,
    messages: pipeline.context.quick ? 1000 : 2000,
    nodeArgs,
  });
  const worker = pipeline.worker;
  await worker?.stop();
  pipeline.worker = undefined;
  const file = worker ? mainThreadProfile(dir, worker.pid, 'worker') : undefined;
  return file === undefined ? undefined : summarizeProfile(file);
}

export async function e2ePhase(context: BenchContext): Promise<E2eResults> {
  const pipeline = await startPipeline(context);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const webIdleRssMb = rssMb(pipeline.web.pid) ?? Number.NaN;
    const worker = await useWorker(pipeline, 200);
    const workerIdleRssMb = rssMb(worker.pid) ?? Number.NaN;
    const webPeak = rssPeak({ web: pipeline.web.pid });
    const plan = e2ePlan(context.quick);
    const latency: LatencyRun[] = [];
    const throughput: ThroughputRun[] = [];
    for (const run of plan.latency) latency.push(await latencyRun(pipeline, run));
    for (const run of plan.throughput) throughput.push(await throughputRun(pipeline, run));
    const results: E2eResults = {
      latency,
      throughput,
      webIdleRssMb,
      workerIdleRssMb,
      webPeakRssMb: webPeak.stop().web ?? Number.NaN,
    };
    if (e2eTargets(results).some((target) => !target.met))
      results.workerProfile = await profileWorker(pipeline);
    return results;
  } finally {
    await stopPipeline(pipeline);
  }
}
