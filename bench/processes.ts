/** Child processes of the bench: spawned with `node --import tsx`, so the pid we measure is the one that works. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** The last few KB of stdout + stderr, for error messages. */
  output(): string;
  /** Resolves with the next stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/** Run a TypeScript file of this repository in its own node process. */
export function spawnTs(name: string, file: string, args: string[], options: SpawnOptions): Child {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  let tail = '';
  let pending = '';
  const listeners = new Set<(line: string) => void>();
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    keep(chunk);
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    name,
    pid: child.pid,
    process: child,
    output: () => tail,
    exited,
    line(pattern, timeoutMs) {
      return new Promise((found, fail) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          fail(new Error(`${name}: no line matching ${String(pattern)} within ${timeoutMs} ms:\n${tail}`));
        }, timeoutMs);
        const listener = (text: string): void => {
          const match = pattern.exec(text);
          if (!match) return;
          clearTimeout(timer);
          listeners.delete(listener);
          found(match);
        };
        listeners.add(listener);
        void exited.then((code) => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          fail(new Error(`${name} exited (${code}) before printing ${String(pattern)}:\n${tail}`));
        });
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Poll `url` until it answers `status` (or fail when the child exits or the time is up). */
export async function waitForHttp(
  url: string,
  child: Child,
  timeoutMs = 30_000,
  status = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state = { gone: false };
  void child.exited.then(() => {
    state.gone = true;
  });
  for (;;) {
    if (state.gone) throw new Error(`${child.name} exited while starting:\n${child.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === status) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Wait for a child's exit, but not forever. */
export async function exitWithin(child: Child, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  const result = await Promise.race([child.exited.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
