import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_ADMIN_URL } from '../helpers/services.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { runCli } from './run-cli.js';

/** A database that does not exist on the real test server. */
function missingDatabaseUrl(): { url: string; name: string } {
  const name = `missing_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

describe('database connection errors in the CLI', { timeout: 120_000 }, () => {
  it('validate-config names the root cause on one line, never the password (closed port)', async () => {
    const port = await freePort();
    const result = await runCli(['validate-config'], {
      env: { DATABASE_URL: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/x` },
    });
    expect(result.code).toBe(1);
    const line = result.stdout.split('\n').find((l) => l.startsWith('✗ PostgreSQL'));
    expect(line).toBe(`✗ PostgreSQL: The database is not available: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(result.stdout).not.toContain('params:');
    expect(result.stdout).not.toContain('Failed query');
    expect(result.stdout + result.stderr).not.toContain('s3cret-pw');
  });

  it('validate-config names a database that does not exist', async () => {
    const { url, name } = missingDatabaseUrl();
    const result = await runCli(['validate-config'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `✗ PostgreSQL: The database is not available: database "${name}" does not exist\n`,
    );
    expect(result.stdout).not.toContain('params:');
  });

  it.each([
    ['migrate', ['migrate']],
    ['ai-config list', ['ai-config', 'list']],
    ['createsuperuser', ['createsuperuser', '--username', 'admin', '--password-stdin']],
  ])('%s prints one line with the cause', async (_name, args) => {
    const { url, name } = missingDatabaseUrl();
    const result = await runCli(args, { env: { DATABASE_URL: url }, input: 'a-long-enough-password' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`✗ The database is not available: database "${name}" does not exist\n`);
  });
});
