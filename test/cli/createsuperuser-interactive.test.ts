/** The interactive path, on a pseudo-terminal (pty.ts). */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/db/admin-users.js';
import { adminUsers } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCliAtTerminal } from './pty.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.close();
});

/** Run `chatbot createsuperuser` on a pty, typing each answer after its prompt appears. */
const interactive = (answers: Array<[prompt: string, answer: string]>) =>
  runCliAtTerminal(['createsuperuser'], testDb.url, answers);

const hashOf = async (username: string) =>
  (await testDb.database.db.select().from(adminUsers).where(eq(adminUsers.username, username)))[0]
    ?.passwordHash;

describe('chatbot createsuperuser at a terminal', { timeout: 120_000 }, () => {
  it('asks for the username and the password twice, without echoing the password', async () => {
    const { code, output } = await interactive([
      ['Username: ', 'operator'],
      ['Password: ', 'typed-secret-1'],
      ['Password (again): ', 'typed-secret-1'],
    ]);
    expect(code).toBe(0);
    expect(output).toContain('✓ admin user "operator" created');
    expect(output).not.toContain('typed-secret-1');
    expect(await verifyPassword((await hashOf('operator'))!, 'typed-secret-1')).toBe(true);
  });

  it('asks again when the confirmation does not match', async () => {
    const { code, output } = await interactive([
      ['Username: ', 'careful'],
      ['Password: ', 'first-attempt-1'],
      ['Password (again): ', 'first-attempt-2'],
      ['Password: ', 'second-attempt'],
      ['Password (again): ', 'second-attempt'],
    ]);
    expect(code).toBe(0);
    expect(output).toContain('the passwords do not match');
    expect(await verifyPassword((await hashOf('careful'))!, 'second-attempt')).toBe(true);
  });
});
