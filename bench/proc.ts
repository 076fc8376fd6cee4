/**
 * What the kernel says about a process: CPU time (utime + stime from /proc/<pid>/stat) and resident memory
 * (VmRSS from /proc/<pid>/status). Read from outside, so the measured process runs no extra code.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second; 100 on every Linux the bench runs on (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds (user + system) the process has used so far; null when it is gone. */
export function cpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Sum of cpuMs over pids; processes that are gone count as 0. */
export function totalCpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

/** Resident set size in MB; null when the process is gone. */
export function rssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match?.[1] ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Pids whose command name (comm) is one of `names`, e.g. every PostgreSQL backend. */
export function pidsByName(names: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** CPU milliseconds the whole machine has been busy (all cores, steal excluded), from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq) * 1000) / TICKS_PER_SECOND;
}

export interface CpuGroups {
  [group: string]: () => number[];
}

/**
 * CPU used by groups of processes between start() and stop(), as milliseconds and as a share of one core, plus
 * `other processes`: whatever else kept the machine busy meanwhile (another job on a shared machine shows here).
 * Pid lists are re-read at stop so PostgreSQL backends that appeared meanwhile are counted (from their start).
 */
export function cpuMeter(groups: CpuGroups) {
  const before = new Map<number, number>();
  let started = 0;
  let machineBefore = 0;
  return {
    start(): void {
      before.clear();
      machineBefore = machineBusyMs();
      for (const pids of Object.values(groups)) for (const pid of pids()) before.set(pid, cpuMs(pid) ?? 0);
      started = performance.now();
    },
    stop(): Record<string, { ms: number; cores: number }> {
      const elapsed = performance.now() - started;
      const result: Record<string, { ms: number; cores: number }> = {};
      const share = (ms: number) => ({ ms, cores: elapsed > 0 ? ms / elapsed : 0 });
      let measured = 0;
      for (const [name, pids] of Object.entries(groups)) {
        let ms = 0;
        for (const pid of pids()) ms += (cpuMs(pid) ?? 0) - (before.get(pid) ?? 0);
        measured += ms;
        result[name] = share(ms);
      }
      result['other processes'] = share(Math.max(0, machineBusyMs() - machineBefore - measured));
      return result;
    },
  };
}

/** Samples the RSS of pids every intervalMs and keeps the highest value seen for each. */
export function rssPeak(pids: Record<string, number>, intervalMs = 200) {
  const peak: Record<string, number> = {};
  const sample = (): void => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = rssMb(pid);
      if (rss !== null) peak[name] = Math.max(peak[name] ?? 0, rss);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
