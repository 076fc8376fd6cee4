import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Read `.env` (or the file named by ENV_FILE) into process.env, as the original system's python-decouple did.
 * Variables already set in the real environment win over the file. A missing `.env` is normal (zero-setup);
 * an ENV_FILE that names a missing file is a mistake, never a silent fallback to no settings.
 */
export function loadDotEnv(): string | null {
  const named = process.env.ENV_FILE;
  const path = resolve(named ?? '.env');
  if (!existsSync(path)) {
    if (named !== undefined) throw new EnvFileMissing(named, path);
    return null;
  }
  process.loadEnvFile(path);
  return path;
}

export class EnvFileMissing extends Error {
  constructor(named: string, path: string) {
    super(`ENV_FILE=${named}: no such file (${path}). Fix the path, or unset ENV_FILE to read ./.env.`);
    this.name = 'EnvFileMissing';
  }
}
