/** `chatbot user-account create` at a terminal asks for the password twice, without echo (pty.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateAdmin, getAdminUserByUsername } from '../../src/db/admin-users.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCliAtTerminal } from './pty.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.close();
});

describe('chatbot user-account create at a terminal', { timeout: 120_000 }, () => {
  it('asks for the password twice without echoing it, and retries when they differ', async () => {
    const { code, output } = await runCliAtTerminal(
      ['user-account', 'create', '--username', 'vera', '--role', 'viewer'],
      testDb.url,
      [
        ['Password: ', 'first-typed-pw'],
        ['Password (again): ', 'other-typed-pw'],
        ['Password: ', 'typed-secret-2'],
        ['Password (again): ', 'typed-secret-2'],
      ],
    );
    expect(code).toBe(0);
    expect(output).toContain('the passwords do not match');
    expect(output).toContain('✓ viewer account "vera" created');
    expect(output).not.toContain('typed-secret-2');
    expect((await getAdminUserByUsername(testDb.database.db, 'vera'))?.role).toBe('viewer');
    expect(await authenticateAdmin(testDb.database.db, 'vera', 'typed-secret-2')).not.toBeNull();
  });
});
