/**
 * Phase 3 (the part the other phases do not already measure): the zero-setup mode, `npm start` with nothing
 * configured (embedded PGlite in a temporary directory, in-process queue), idle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/tcp-proxy.js';
import type { BenchContext } from './context.js';
import { rssMb } from './proc.js';
import { spawnTs, waitForHttp } from './processes.js';

export interface ZeroSetupMemory {
  idleRssMb: number;
  startMs: number;
}

export async function zeroSetupPhase(context: BenchContext): Promise<ZeroSetupMemory> {
  context.log('memory: zero-setup mode (PGlite, in-process queue), idle');
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-pglite-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawnTs('zero-setup start', 'src/main/start.ts', [], {
    env: {
      ENV_FILE: '/dev/null',
      PGLITE_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health/`, child, 60_000);
    const startMs = performance.now() - started;
    // Idle: after the start-up work (migrations, first sweep) has settled.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return { idleRssMb: rssMb(child.pid) ?? Number.NaN, startMs };
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
