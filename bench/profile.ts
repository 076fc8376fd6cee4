/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the sampled time went, by function (self time), by
 * area (our source files, each package, node internals, GC), and the inclusive time of our own functions, so
 * "what would fix it" can point at a line instead of at a flame graph.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  selfTop: Frame[];
  areas: Frame[];
  /** Our functions (src/) by inclusive time: themselves plus everything they called. */
  oursInclusive: Frame[];
}

/** Where a script lives, as a short label: `src/http/server.ts`, `pkg:fastify`, `node:internal`, … */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)')
      return functionName;
    return 'native';
  }
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return `pkg:${modules[1]}`;
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return own?.[1] ?? url;
}

function label(frame: CallFrame): string {
  const area = areaOf(frame.url, frame.functionName);
  const name = frame.functionName || '(anonymous)';
  return frame.url === '' ? name : `${name} (${area}:${frame.lineNumber + 1})`;
}

export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;
  const add = (map: Map<string, number>, key: string, ms: number): void => {
    map.set(key, (map.get(key) ?? 0) + ms);
  };
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    if (!node) return;
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (area === '(idle)' || area === '(program)' || area === '(root)') {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    add(self, label(node.callFrame), ms);
    add(areas, area, ms);
    // Inclusive time of our own functions: each counted once per sample, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !/\/src\//.test(frame.url)) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, ms);
    }
  });
  const ranked = (map: Map<string, number>, count: number): Frame[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
  return {
    busyMs,
    idleMs,
    selfTop: ranked(self, top),
    areas: ranked(areas, top),
    oursInclusive: ranked(inclusive, top),
  };
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const rows = (frames: Frame[]) =>
    frames
      .map(
        (f) => `| ${f.name.replace(/\|/g, '\\|')} | ${f.ms.toFixed(0)} | ${(f.share * 100).toFixed(1)} % |`,
      )
      .join('\n');
  return [
    `#### ${title}`,
    '',
    `Busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms of samples.`,
    '',
    '| area (self time) | ms | share of busy |',
    '| --- | ---: | ---: |',
    rows(summary.areas.slice(0, 10)),
    '',
    '| top functions (self time) | ms | share of busy |',
    '| --- | ---: | ---: |',
    rows(summary.selfTop),
    '',
    '| our functions (inclusive time) | ms | share of busy |',
    '| --- | ---: | ---: |',
    rows(summary.oursInclusive.slice(0, 12)),
    '',
  ].join('\n');
}

/** The main thread's profile of process `pid` in `dir` (other threads, e.g. tsx's loader, write their own). */
export function mainThreadProfile(dir: string, pid: number, label: string): string | undefined {
  const name = readdirSync(dir).find((file) => file.includes(`.${pid}.0.`) && file.endsWith('.cpuprofile'));
  if (name === undefined) return undefined;
  const file = join(dir, name);
  // BENCH_KEEP_PROFILES=DIR keeps the raw profile (for Chrome DevTools or speedscope) beyond the run.
  const keep = process.env.BENCH_KEEP_PROFILES;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    copyFileSync(file, join(keep, `${label}.cpuprofile`));
  }
  return file;
}
