/** The targets, each judged from the figures of the same run. */
import type { E2eResults } from './e2e-phase.js';
import type { WebhookResults } from './webhook-phase.js';

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

export function webhookTargets(w: WebhookResults): Target[] {
  const ratio = w.ours.load.requestsPerSecond / w.reference.load.requestsPerSecond;
  const p99Ratio = w.ours.load.latencyMs.p99 / w.reference.load.latencyMs.p99;
  return [
    {
      name: 'webhook throughput',
      goal: '≥ 70 % of the reference',
      measured: `${(ratio * 100).toFixed(0)} % (${Math.round(w.ours.load.requestsPerSecond)} vs ${Math.round(w.reference.load.requestsPerSecond)} req/s)`,
      met: ratio >= 0.7,
    },
    {
      name: 'webhook p99 latency',
      goal: '≤ 2× the reference',
      measured: `${p99Ratio.toFixed(2)}× (${w.ours.load.latencyMs.p99.toFixed(1)} vs ${w.reference.load.latencyMs.p99.toFixed(1)} ms)`,
      met: p99Ratio <= 2,
    },
  ];
}

/** The throughput runs that judge CPU per message: the big ones (a handful of messages says little). */
export function cpuRuns(e: E2eResults) {
  return e.throughput.filter((run) => run.messages >= 500);
}

export function e2eTargets(e: E2eResults): Target[] {
  const worstP50 = Math.max(...e.latency.map((run) => run.addedMs.p50));
  const slow = e.throughput.filter((run) => run.llmDelayMs === 1000);
  const best = Math.max(...slow.map((run) => run.messagesPerSecond));
  const cpu = cpuRuns(e).map((run) => run.webCpuMsPerMessage + run.workerCpuMsPerMessage);
  const worstCpu = Math.max(...cpu);
  return [
    {
      name: 'pipeline added latency p50',
      goal: '< 20 ms',
      measured: `${worstP50.toFixed(1)} ms (worst of the latency runs)`,
      met: worstP50 < 20,
    },
    {
      name: 'one worker at 1000 ms LLM latency',
      goal: '≥ 300 messages/s',
      measured: `${best.toFixed(0)} messages/s (best concurrency)`,
      met: best >= 300,
    },
    {
      name: 'CPU per message (web + worker)',
      goal: '< 3 ms',
      measured: `${worstCpu.toFixed(2)} ms (worst of the runs with ≥ 500 messages)`,
      met: worstCpu < 3,
    },
  ];
}
