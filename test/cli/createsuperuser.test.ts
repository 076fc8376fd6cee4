import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/db/admin-users.js';
import { adminUsers } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli } from './run-cli.js';

let testDb: TestDatabase;
let env: Record<string, string>;
beforeAll(async () => {
  testDb = await createTestDatabase();
  env = { DATABASE_URL: testDb.url };
});
afterAll(async () => {
  await testDb.close();
});

const hashOf = async (username: string) =>
  (await testDb.database.db.select().from(adminUsers).where(eq(adminUsers.username, username)))[0]
    ?.passwordHash;

describe('chatbot createsuperuser', { timeout: 120_000 }, () => {
  it('creates the account from --password-stdin; the stored hash verifies the password', async () => {
    const result = await runCli(['createsuperuser', '--username', 'admin', '--password-stdin'], {
      env,
      input: 'a-long-password\n',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ admin user "admin" created');
    const hash = await hashOf('admin');
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(hash!, 'a-long-password')).toBe(true);
    expect(await verifyPassword(hash!, 'a-long-password\n')).toBe(false);
  });

  it('fails with exit 1 on a duplicate username and keeps the first password', async () => {
    const result = await runCli(['createsuperuser', '--username', 'admin', '--password-stdin'], {
      env,
      input: 'another-password',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('an admin user named "admin" already exists');
    expect(await verifyPassword((await hashOf('admin'))!, 'a-long-password')).toBe(true);
  });

  it('takes the password from CHATBOT_SUPERUSER_PASSWORD', async () => {
    const result = await runCli(['createsuperuser', '--username', 'ops'], {
      env: { ...env, CHATBOT_SUPERUSER_PASSWORD: 'from-the-environment' },
    });
    expect(result.code).toBe(0);
    expect(await verifyPassword((await hashOf('ops'))!, 'from-the-environment')).toBe(true);
  });

  it('refuses a short password, a bad username, a missing password and a non-terminal without flags (exit 2)', async () => {
    const [short, badName, noPassword, noTty] = await Promise.all([
      runCli(['createsuperuser', '--username', 'shorty', '--password-stdin'], { env, input: 'short' }),
      runCli(['createsuperuser', '--username', 'has space', '--password-stdin'], {
        env,
        input: 'long-enough-pw',
      }),
      runCli(['createsuperuser', '--username', 'nopass'], { env }),
      runCli(['createsuperuser'], { env }),
    ]);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 10 characters');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('username');
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('--password-stdin');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('stdin is not a terminal');
    for (const name of ['shorty', 'has space', 'nopass']) expect(await hashOf(name)).toBeUndefined();
  });
});
