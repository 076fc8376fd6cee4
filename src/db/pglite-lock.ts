/**
 * One process at a time on a PGlite data directory. PGlite is PostgreSQL in this process's memory, writing its
 * files on its own: a second process opening the same directory (the CLI beside a running zero-setup server, a
 * second server) would neither see the first one's writes nor leave its files intact. So the opener takes a lock
 * file inside the directory, created atomically (O_EXCL), holding its pid; a lock whose process is gone is
 * stale and taken over; close() removes it.
 */
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../domain/errors.js';

export const PGLITE_LOCK_FILE = 'chatbot.lock';

/** A lock file with no readable pid younger than this may be one being written right now. */
const UNREADABLE_GRACE_MS = 10_000;

export interface PgliteLock {
  /** Removes the lock file, if it is still ours. */
  release(): Promise<void>;
}

export async function lockPgliteDir(dataDir: string): Promise<PgliteLock> {
  const file = path.join(dataDir, PGLITE_LOCK_FILE);
  const content = `${process.pid}\n`;
  // Two rounds: the second after removing a stale lock. A lock taken by someone else in between wins.
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, content, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await lockHolder(file);
    if (holder.stale && attempt === 0) {
      await unlink(file).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
      continue;
    }
    throw inUse(dataDir, holder.pid);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const now = await readFile(file, 'utf8').catch(() => null);
      if (now === content) await unlink(file).catch(() => undefined);
    },
  };
}

async function lockHolder(file: string): Promise<{ pid: number | null; stale: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    // Removed between our attempt and this read: free again.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pid: null, stale: true };
    throw error;
  }
  const pid = /^\s*(\d+)\s*$/.test(text) ? Number(text) : null;
  if (pid === null || !Number.isSafeInteger(pid) || pid <= 0) {
    const age = await stat(file).then(
      (s) => Date.now() - s.mtimeMs,
      () => Infinity,
    );
    return { pid: null, stale: age > UNREADABLE_GRACE_MS };
  }
  return { pid, stale: !alive(pid) };
}

/** Signal 0 checks that the process exists; EPERM means it does, under another user. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dataDir: string, pid: number | null): AppError {
  const who = pid === null ? 'another process' : `process ${pid}`;
  return new AppError(
    'database_unavailable',
    `The PGlite data directory ${dataDir} is in use by ${who} (a running chatbot server?): ` +
      'PGlite allows one process at a time. Stop that server first, or use PostgreSQL (DATABASE_URL) ' +
      'to share the database between processes.',
  );
}
