/**
 * The load generator, run as its own process so it does not share an event loop with what it measures:
 *
 *   node --import tsx bench/load.ts <spec.json> <result.json>
 *
 * It signs every payload BEFORE the clock starts (distinct MessageSids, realistic Twilio WhatsApp params, the
 * twilio SDK's signature), then posts them over keep-alive connections: closed loop at a fixed concurrency for a
 * duration after a warm-up (throughput and latency), closed loop until the payloads run out (a flood), or open
 * loop at a fixed rate (latency without queueing). Each payload's Body carries a marker, `[bench:<id>]`, that
 * the fakes use to match a reply to the webhook that caused it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { formBody, inboundParams, signParams } from '../test/helpers/twilio.js';
import { summarize, type Summary } from './stats.js';

export interface PayloadSpec {
  count: number;
  /** Markers are `<tag>-<index>`; the tag keeps runs apart. */
  tag: string;
  /** Senders are whatsapp:+1555<7 digits>, numbers firstUser .. firstUser+users-1, taken in turn. */
  firstUser: number;
  users: number;
  authToken: string;
  /** The URL Twilio would have called: what the signature covers. */
  signedUrl: string;
}

export interface LoadSpec {
  /** Where to post (usually the signed URL). */
  url: string;
  concurrency: number;
  payloads: PayloadSpec;
  /** Closed loop for this long after the warm-up; without it, until the payloads run out. */
  durationMs?: number;
  warmupMs?: number;
  /** Open loop: start one request every 1/rate seconds (at most `concurrency` open at once). */
  ratePerSecond?: number;
  /** Return when each marker was sent (epoch ms), for end-to-end latency. */
  recordSends?: boolean;
}

export interface LoadResult {
  /** Requests completed inside the measured window. */
  completed: number;
  /** Non-2xx answers and connection errors inside the window. */
  errors: number;
  statuses: Record<string, number>;
  windowMs: number;
  requestsPerSecond: number;
  latencyMs: Summary;
  /** True when a timed run used up its payloads before the end (the figure is then too low). */
  exhausted: boolean;
  generateMs: number;
  sends: Array<[marker: string, epochMs: number]>;
}

export interface Payload {
  marker: string;
  body: Buffer;
  signature: string;
}

const BODIES = [
  'Hi! Could you tell me your opening hours on Saturday?',
  'I ordered a blue jacket last week, order 48213, when will it arrive?',
  'Thanks, that helps. One more question: do you deliver to Porto?',
  'Bom dia, queria saber o preço da entrega expressa.',
];

export function userAddress(n: number): string {
  return `whatsapp:+1555${String(n % 10_000_000).padStart(7, '0')}`;
}

export function buildPayloads(spec: PayloadSpec): Payload[] {
  const payloads: Payload[] = [];
  for (let i = 0; i < spec.count; i++) {
    const marker = `${spec.tag}-${i}`;
    const params = inboundParams({
      From: userAddress(spec.firstUser + (i % spec.users)),
      ProfileName: `Bench User ${i % spec.users}`,
      Body: `[bench:${marker}] ${BODIES[i % BODIES.length] ?? ''}`,
    });
    payloads.push({
      marker,
      body: Buffer.from(formBody(params)),
      signature: signParams(spec.authToken, spec.signedUrl, params),
    });
  }
  return payloads;
}

/** `window`: the measured window starts (payloads are signed, warm-up over); `done`: it ended. */
export type LoadEvent = 'window' | 'done';

export async function runLoad(
  spec: LoadSpec,
  onEvent: (event: LoadEvent) => void = () => undefined,
): Promise<LoadResult> {
  const generated = performance.now();
  const payloads = buildPayloads(spec.payloads);
  const generateMs = performance.now() - generated;
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const post = (payload: Payload): Promise<number> =>
    new Promise((resolve) => {
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': payload.body.length,
            'x-twilio-signature': payload.signature,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', () => resolve(0));
        },
      );
      request.on('error', () => resolve(0));
      request.end(payload.body);
    });

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const sends: Array<[string, number]> = [];
  let completed = 0;
  let errors = 0;
  let next = 0;
  let exhausted = false;
  const start = performance.now();
  const windowStart = start + (spec.warmupMs ?? 0);
  const windowEnd = spec.durationMs === undefined ? Number.POSITIVE_INFINITY : windowStart + spec.durationMs;
  let lastEnd = start;
  const windowTimer = setTimeout(() => onEvent('window'), windowStart - start);
  let finished = false;
  const done = (): void => {
    if (finished) return;
    finished = true;
    onEvent('done');
  };
  const doneTimer = Number.isFinite(windowEnd) ? setTimeout(done, windowEnd - start) : undefined;

  const one = async (payload: Payload): Promise<void> => {
    const t0 = performance.now();
    if (spec.recordSends) sends.push([payload.marker, performance.timeOrigin + t0]);
    const status = await post(payload);
    const t1 = performance.now();
    if (t0 < windowStart || t1 > windowEnd) return;
    lastEnd = Math.max(lastEnd, t1);
    completed++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status < 200 || status > 299) errors++;
    latencies.push(t1 - t0);
  };

  if (spec.ratePerSecond !== undefined) {
    // Open loop: the schedule does not wait for answers, so a slow server shows up as latency, not fewer sends.
    const interval = 1000 / spec.ratePerSecond;
    const inFlight = new Set<Promise<void>>();
    for (const payload of payloads) {
      const due = start + next * interval;
      next++;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const request = one(payload).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } else {
    const loop = async (): Promise<void> => {
      while (performance.now() < windowEnd) {
        const payload = payloads[next++];
        if (!payload) {
          exhausted = spec.durationMs !== undefined;
          return;
        }
        await one(payload);
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, loop));
  }
  agent.destroy();
  clearTimeout(windowTimer);
  clearTimeout(doneTimer);
  done();
  const windowMs = (spec.durationMs ?? lastEnd - windowStart) || 1;
  return {
    completed,
    errors,
    statuses,
    windowMs,
    requestsPerSecond: (completed * 1000) / windowMs,
    latencyMs: summarize(latencies),
    exhausted,
    generateMs,
    sends,
  };
}

// As a process: spec file in, result file out.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [specPath, resultPath] = process.argv.slice(2);
  if (!specPath || !resultPath) throw new Error('usage: bench/load.ts <spec.json> <result.json>');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as LoadSpec;
  const result = await runLoad(spec, (event) => process.stdout.write(`${event}\n`));
  writeFileSync(resultPath, JSON.stringify(result));
}
