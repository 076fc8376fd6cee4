import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateAdmin, getAdminUserByUsername } from '../../src/db/admin-users.js';
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

const db = () => testDb.database.db;
const auditRows = (action: string) =>
  testDb.database.db.execute(
    `select actor_kind, actor_id, actor_name, target_type, target_id, details from audit_log
     where action = '${action}' order by created_at`,
  ) as Promise<{ rows: Array<Record<string, unknown>> }>;

describe('chatbot user-account', { timeout: 120_000 }, () => {
  it('creates an agent with the password piped in, lists it with its role, and audits the creation as the CLI', async () => {
    const created = await runCli(['user-account', 'create', '--username', 'maria', '--role', 'agent'], {
      env,
      input: 'agent-password-1\n',
    });
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('✓ agent account "maria" created');
    expect((await getAdminUserByUsername(db(), 'maria'))?.role).toBe('agent');
    expect(await authenticateAdmin(db(), 'maria', 'agent-password-1')).not.toBeNull();

    const superuser = await runCli(['createsuperuser', '--username', 'root', '--password-stdin'], {
      env,
      input: 'admin-password-1',
    });
    expect(superuser.code).toBe(0);
    expect((await getAdminUserByUsername(db(), 'root'))?.role).toBe('admin');

    const list = await runCli(['user-account', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const users = JSON.parse(list.stdout) as Array<{ username: string; role: string }>;
    expect(users.map(({ username, role }) => ({ username, role }))).toEqual([
      { username: 'maria', role: 'agent' },
      { username: 'root', role: 'admin' },
    ]);
    const table = await runCli(['user-account', 'list'], { env });
    expect(table.stdout).toMatch(/maria\s+agent/);

    const { rows } = await auditRows('account.create');
    const maria = await getAdminUserByUsername(db(), 'maria');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      actor_kind: 'cli',
      actor_id: null,
      actor_name: 'cli',
      target_type: 'account',
      target_id: maria!.id,
      details: { username: 'maria', role: 'agent' },
    });
    expect(rows[1]).toMatchObject({ details: { username: 'root', role: 'admin' } });
    expect(JSON.stringify(rows)).not.toContain('password-1');
  });

  it('refuses an unknown role, a missing role and a missing password with exit 2, creating nothing', async () => {
    const [badRole, noRole, noPassword] = await Promise.all([
      runCli(['user-account', 'create', '--username', 'eve', '--role', 'superadmin'], {
        env,
        input: 'long-enough-pw',
      }),
      runCli(['user-account', 'create', '--username', 'eve'], { env, input: 'long-enough-pw' }),
      runCli(['user-account', 'create', '--username', 'eve', '--role', 'viewer'], { env }),
    ]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/superadmin.*invalid.*admin, agent, viewer/s);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toContain('--role');
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('no password given');
    expect(await getAdminUserByUsername(db(), 'eve')).toBeNull();
    const setBad = await runCli(['user-account', 'set-role', '--username', 'maria', '--role', 'owner'], {
      env,
    });
    expect(setBad.code).toBe(2);
    expect((await getAdminUserByUsername(db(), 'maria'))?.role).toBe('agent');
  });

  it('changes a role and audits from and to; an unknown account exits 1', async () => {
    const changed = await runCli(['user-account', 'set-role', '--username', 'maria', '--role', 'viewer'], {
      env,
    });
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('"maria" is now viewer (was agent)');
    expect((await getAdminUserByUsername(db(), 'maria'))?.role).toBe('viewer');
    const { rows } = await auditRows('account.role');
    expect(rows).toMatchObject([
      { actor_kind: 'cli', details: { username: 'maria', from: 'agent', to: 'viewer' } },
    ]);

    const unknown = await runCli(['user-account', 'set-role', '--username', 'ghost', '--role', 'agent'], {
      env,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account named "ghost"');
  });

  it('deletes only with --yes, audits it, and warns when no admin is left', async () => {
    const refused = await runCli(['user-account', 'delete', '--username', 'maria'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await getAdminUserByUsername(db(), 'maria')).not.toBeNull();

    const maria = await getAdminUserByUsername(db(), 'maria');
    const deleted = await runCli(['user-account', 'delete', '--username', 'maria', '--yes'], { env });
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).not.toContain('no admin account is left');
    expect(await getAdminUserByUsername(db(), 'maria')).toBeNull();
    const { rows } = await auditRows('account.delete');
    expect(rows).toMatchObject([{ target_id: maria!.id, details: { username: 'maria', role: 'viewer' } }]);

    const last = await runCli(['user-account', 'delete', '--username', 'root', '--yes'], { env });
    expect(last.code).toBe(0);
    expect(last.stderr).toContain('no admin account is left');
  });
});
