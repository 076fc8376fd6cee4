import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDb } from '../../src/db/connect.js';
import { runMigrations } from '../../src/db/migrate.js';
import { lockPgliteDir, PGLITE_LOCK_FILE } from '../../src/db/pglite-lock.js';
import { runCli } from '../cli/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pglite-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('PGlite data directory lock', () => {
  // The first open runs initdb inside WASM (about 10 s), and each CLI start takes a few seconds more.
  it(
    'a CLI command on a directory this process has open fails at once naming the pid; after close it works',
    { timeout: 180_000 },
    async () => {
      const dataDir = path.join(dir, 'shared');
      const env = { PGLITE_DATA_DIR: dataDir };
      const database = await connectDb({ kind: 'pglite', dataDir });
      try {
        await runMigrations(database);
        expect((await readFile(path.join(dataDir, PGLITE_LOCK_FILE), 'utf8')).trim()).toBe(
          String(process.pid),
        );
        const started = Date.now();
        const refused = await runCli(['ai-config', 'list'], { env });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(
          `The PGlite data directory ${dataDir} is in use by process ${process.pid}`,
        );
        expect(refused.stderr).toMatch(/Stop that server first, or use PostgreSQL/);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
        expect(Date.now() - started).toBeLessThan(30_000);

        // A second opener in the same process is refused the same way.
        await expect(connectDb({ kind: 'pglite', dataDir })).rejects.toThrow(/is in use by process/);
      } finally {
        await database.close();
      }
      await expect(access(path.join(dataDir, PGLITE_LOCK_FILE))).rejects.toThrow();

      const after = await runCli(['ai-config', 'list'], { env });
      expect(after.stderr).toBe('');
      expect(after.code).toBe(0);
      await expect(access(path.join(dataDir, PGLITE_LOCK_FILE))).rejects.toThrow();
    },
  );

  it('takes over a stale lock whose process is gone, and releases only its own lock', async () => {
    const dataDir = path.join(dir, 'stale');
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, PGLITE_LOCK_FILE);
    await writeFile(file, `${await deadPid()}\n`);
    const lock = await lockPgliteDir(dataDir);
    expect((await readFile(file, 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
    await expect(access(file)).rejects.toThrow();

    // A live holder (this process, through another lock) is not taken over.
    const held = await lockPgliteDir(dataDir);
    await expect(lockPgliteDir(dataDir)).rejects.toThrow(`in use by process ${process.pid}`);
    await held.release();
  });
});
