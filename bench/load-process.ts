/** Runs bench/load.ts in its own process and reports when its measured window opens and closes. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './load.js';
import { spawnTs, type Child } from './processes.js';

export interface LoadHooks {
  /** Called when the load process starts its measured window (payloads signed, warm-up over). */
  onWindow?: (load: Child) => void;
  /** Called when the measured window ends. */
  onDone?: (load: Child) => void;
}

export async function runLoadProcess(
  spec: LoadSpec,
  hooks: LoadHooks = {},
  timeoutMs = 300_000,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  try {
    const specPath = join(dir, 'spec.json');
    const resultPath = join(dir, 'result.json');
    writeFileSync(specPath, JSON.stringify(spec));
    const load = spawnTs('load generator', 'bench/load.ts', [specPath, resultPath], { env: {} });
    const window = load.line(/^window$/, timeoutMs).then(() => hooks.onWindow?.(load));
    const done = load.line(/^done$/, timeoutMs).then(() => hooks.onDone?.(load));
    const code = await load.exited;
    if (code !== 0) throw new Error(`load generator failed (exit ${code}):\n${load.output()}`);
    await Promise.all([window, done]);
    return JSON.parse(readFileSync(resultPath, 'utf8')) as LoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
