/** What most commands need: the validated config, the database, the field cipher, and uniform output lines. */
import { loadConfig, type Config } from '../config/load.js';
import { connectDb, type Database } from '../db/connect.js';
import { fieldCipherFrom, type FieldCipher } from '../security/field-encryption.js';

export function cliConfig(): Config {
  return loadConfig(process.env);
}

/** Open the database for the duration of `work`, and always close it (the process should exit promptly). */
export async function withDatabase<T>(config: Config, work: (database: Database) => Promise<T>): Promise<T> {
  const database = await connectDb(config.database);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

export function cipherFor(config: Config): FieldCipher | null {
  return fieldCipherFrom(config.fieldEncryption);
}

/**
 * One check or result per line, so output reads well and greps well: ✓ passed, ✗ failed, · for information,
 * ! for a warning.
 */
export const line = {
  ok: (text: string) => {
    console.log(`✓ ${text}`);
  },
  fail: (text: string) => {
    console.log(`✗ ${text}`);
  },
  info: (text: string) => {
    console.log(`· ${text}`);
  },
  /** On stderr, so that it never mixes into a command's --json output. */
  warn: (text: string) => {
    console.error(`! ${text}`);
  },
};

/** Everything piped to stdin, without the final newline (a password or key from `echo`/`printf` or a file). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
