import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Read `.env` (or the file named by ENV_FILE) into process.env, as the original system's python-decouple did.
 * Variables already set in the real environment win over the file.
 */
export function loadDotEnv(): string | null {
  const path = resolve(process.env.ENV_FILE ?? '.env');
  if (!existsSync(path)) return null;
  process.loadEnvFile(path);
  return path;
}
