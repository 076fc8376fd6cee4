/**
 * A migrated database for a whole test file, with a small pg pool of its own for setting rows up and checking
 * them; dropped after the file. Read the fields inside tests and hooks (they are set in beforeAll).
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface FileDatabase {
  testDb: TestDatabase;
  pool: pg.Pool;
}

export function databaseForFile(options: { poolSize?: number } = {}): FileDatabase {
  const file = {} as FileDatabase;
  beforeAll(async () => {
    file.testDb = await createTestDatabase();
    file.pool = new pg.Pool({ connectionString: file.testDb.url, max: options.poolSize ?? 2 });
    // An idle client the server drops would otherwise be an uncaught 'error' that fails the whole run; the pool
    // replaces it on the next query, and a test that needed it fails on its own.
    file.pool.on('error', (error) => console.warn(`test pool: idle connection failed: ${error.message}`));
  });
  afterAll(async () => {
    await file.pool.end();
    await file.testDb.close();
  });
  return file;
}
