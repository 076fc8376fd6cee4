/**
 * `npm run build` output runs with plain node, as the container image runs it: compiled to a scratch folder
 * (not dist/, which bin/chatbot.js would then prefer over the sources), started in zero-setup mode, asked for
 * /health/ and /metrics, stopped with SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { freePort } from '../helpers/tcp-proxy.js';

const outDir = resolve('test-artifacts', `build-${randomUUID()}`);
const dataDir = mkdtempSync(join(tmpdir(), 'chatbot-build-'));
let child: ChildProcess | undefined;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['scripts/build.js', outDir], { maxBuffer: 16 * 1024 * 1024 });
}, 300_000);
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the compiled build', () => {
  it('puts the migrations (SQL and journal) beside the compiled migrator, and the simulator page beside its code', () => {
    expect(existsSync(join(outDir, 'src/db/migrate.js'))).toBe(true);
    expect(existsSync(join(outDir, 'src/db/migrations/0000_initial.sql'))).toBe(true);
    expect(existsSync(join(outDir, 'src/db/migrations/meta/_journal.json'))).toBe(true);
    expect(existsSync(join(outDir, 'src/channels/simulator/page/index.html'))).toBe(true);
    expect(existsSync(join(outDir, 'src/cli/index.js'))).toBe(true);
    expect(existsSync(join(outDir, 'src/main/start.ts'))).toBe(false);
  });

  it('starts with node, answers /health/ and /metrics, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    let output = '';
    const started = spawn(process.execPath, [join(outDir, 'src/main/start.js')], {
      env: {
        PATH: process.env.PATH,
        ENV_FILE: '/dev/null',
        PORT: String(port),
        HOST: '127.0.0.1',
        PGLITE_DATA_DIR: join(dataDir, 'pglite'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => started.once('exit', (code) => done(code)));

    const health = await eventually(
      'the compiled server to answer',
      async () => {
        if (started.exitCode !== null) throw new Error(`exited ${started.exitCode}:\n${output}`);
        return fetch(`http://127.0.0.1:${port}/health/`).catch(() => undefined);
      },
      60_000,
    );
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'healthy',
      checks: { database: { driver: 'pglite' } },
    });
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain(
      'chatbot_http_requests_total{route="/health/",method="GET",status="200"} 1',
    );

    started.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('whatsapp-ai-chatbot ready');
  }, 120_000);
});
