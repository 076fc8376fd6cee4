/** The bench's results as Markdown: printed to the terminal and written to docs/benchmarks.md. */
import type { CpuShare } from './context.js';
import type { E2eResults } from './e2e-phase.js';
import type { ZeroSetupMemory } from './memory-phase.js';
import { formatProfile, type ProfileSummary } from './profile.js';
import type { Target } from './targets.js';
import type { WebhookResults } from './webhook-phase.js';

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  node: string;
  postgres: string;
  redis: string;
  loadAverageBefore: string;
  command: string;
  elapsedSeconds: number;
}

export interface Report {
  machine: Machine;
  webhook: WebhookResults;
  e2e: E2eResults;
  zeroSetup: ZeroSetupMemory;
  targets: Target[];
  webProfile?: ProfileSummary | undefined;
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : '–');

function table(head: string[], rows: string[][]): string {
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** "server 0.62, load generator 0.31, …" cores each, the busiest first. */
function shares(cpu: Record<string, CpuShare>): string {
  return Object.entries(cpu)
    .sort((a, b) => b[1].cores - a[1].cores)
    .map(([name, share]) => `${name} ${f2(share.cores)}`)
    .join(', ');
}

function webhookSection(w: WebhookResults): string {
  const { reference: ref, ours } = w;
  const row = (name: string, run: typeof ref): string[] => [
    name,
    int(run.load.requestsPerSecond),
    f1(run.load.latencyMs.p50),
    f1(run.load.latencyMs.p99),
    String(run.load.errors),
    f2(run.load.requestsPerSecond / ref.load.requestsPerSecond),
    f2(run.load.latencyMs.p99 / ref.load.latencyMs.p99),
  ];
  return [
    `### 1. Webhook: signed Twilio posts, ${w.rounds > 1 ? `best of ${w.rounds} alternating rounds, ` : ''}32 keep-alive connections, ${w.durationMs / 1000} s after ${w.warmupMs / 1000} s warm-up`,
    '',
    table(
      ['server', 'requests/s', 'p50 ms', 'p99 ms', 'errors', 'throughput vs reference', 'p99 vs reference'],
      [
        row('reference: node:http + signature + 1 INSERT + 1 LPUSH', ref),
        row('ours: web role (Fastify)', ours),
      ],
    ),
    '',
    'How the 2 cores were shared during the measured window (cores busy, 1.00 = one full core):',
    '',
    `- reference run: ${shares(ref.cpu)}`,
    `- our run: ${shares(ours.cpu)}`,
    '',
    `Server CPU per webhook: ours ${f2((ours.cpu.server?.ms ?? 0) / (ours.load.completed || 1))} ms of server CPU, reference ${f2((ref.cpu.server?.ms ?? 0) / (ref.load.completed || 1))} ms.`,
    ...(ours.load.exhausted || ref.load.exhausted
      ? ['', '**Warning:** the generator ran out of payloads; a figure is too low.']
      : []),
  ].join('\n');
}

function e2eSection(e: E2eResults): string {
  const latency = table(
    ['LLM latency', 'worker concurrency', 'offered', 'delivered', 'added p50 ms', 'added p99 ms'],
    e.latency.map((run) => [
      `${run.llmDelayMs} ms`,
      String(run.concurrency),
      `${run.messages} at ${run.ratePerSecond}/s`,
      String(run.delivered),
      f1(run.addedMs.p50),
      f1(run.addedMs.p99),
    ]),
  );
  const throughput = table(
    [
      'LLM latency',
      'worker concurrency',
      'messages',
      'messages/s',
      'vs ideal (concurrency ÷ LLM latency)',
      'web CPU ms/msg',
      'worker CPU ms/msg',
      'PostgreSQL + Redis CPU ms/msg',
      'PostgreSQL transactions/msg',
      'worker peak RSS MB',
    ],
    e.throughput.map((run) => [
      `${run.llmDelayMs} ms`,
      String(run.concurrency),
      `${run.delivered}/${run.messages}`,
      f1(run.messagesPerSecond),
      run.llmDelayMs > 0 ? `${((run.messagesPerSecond / run.idealPerSecond) * 100).toFixed(0)} %` : '–',
      f2(run.webCpuMsPerMessage),
      f2(run.workerCpuMsPerMessage),
      f2(run.servicesCpuMsPerMessage),
      f1(run.transactionsPerMessage),
      int(run.workerPeakRssMb),
    ]),
  );
  const big = e.throughput.at(-1);
  return [
    '### 2. End to end: webhook → queue → fake LLM → fake Twilio (real web and worker processes)',
    '',
    'Added latency: fake Twilio received the send − the load generator posted the webhook − the LLM delay. Posted',
    'at a fixed rate (open loop) with the queue running, one message per conversation.',
    '',
    latency,
    '',
    'Throughput: the queue is paused, the backlog posted through the webhook (web CPU counted then), the queue',
    'resumed and the worker drains it (worker CPU counted then); messages/s between the 10th and 90th percentile',
    'of arrivals at the fake Twilio.',
    '',
    throughput,
    ...(big
      ? [
          '',
          `Cores while the last run drained: ${shares(big.drainCpu)}.`,
          `While its backlog was posted: ${shares(big.ingestCpu)}.`,
        ]
      : []),
  ].join('\n');
}

function memorySection(r: Report): string {
  return [
    '### 3. Memory (RSS)',
    '',
    table(
      ['process', 'idle MB', 'under load MB'],
      [
        ['web (webhook phase)', int(r.webhook.ours.idleRssMb), int(r.webhook.ours.peakRssMb)],
        ['web (end to end)', int(r.e2e.webIdleRssMb), int(r.e2e.webPeakRssMb)],
        [
          'worker (concurrency 200 idle; peak of all runs)',
          int(r.e2e.workerIdleRssMb),
          int(Math.max(...r.e2e.throughput.map((t) => t.workerPeakRssMb))),
        ],
        ['reference server', int(r.webhook.reference.idleRssMb), int(r.webhook.reference.peakRssMb)],
        [
          `zero-setup \`npm start\` (PGlite, in-process queue; ready in ${f1(r.zeroSetup.startMs / 1000)} s)`,
          int(r.zeroSetup.idleRssMb),
          '–',
        ],
      ],
    ),
  ].join('\n');
}

export function renderReport(r: Report): string {
  const m = r.machine;
  const targets = table(
    ['target', 'goal', 'measured', 'status'],
    r.targets.map((t) => [t.name, t.goal, t.measured, t.met ? 'met' : '**missed**']),
  );
  const profiles = [
    r.webProfile ? formatProfile('web role under webhook load', r.webProfile) : '',
    r.e2e.workerProfile
      ? formatProfile('worker draining a backlog (1000 ms LLM, concurrency 500)', r.e2e.workerProfile)
      : '',
  ].filter(Boolean);
  return [
    `## Run of ${m.date}`,
    '',
    `\`${m.command}\` on ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${m.postgres}, Redis ${m.redis}; took ${int(m.elapsedSeconds)} s.`,
    `Load average before the run: ${m.loadAverageBefore} (anything well above 0 means other work shared the machine; see "other processes" below).`,
    'Every process runs TypeScript through `node --import tsx` (transpiled once at load; no difference once warm).',
    '',
    '### Targets',
    '',
    targets,
    '',
    webhookSection(r.webhook),
    '',
    e2eSection(r.e2e),
    '',
    memorySection(r),
    ...(profiles.length > 0
      ? ['', '### Where the time goes (CPU profiles, taken because a target was missed)', '', ...profiles]
      : []),
  ].join('\n');
}
