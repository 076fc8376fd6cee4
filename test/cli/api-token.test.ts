import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateApiToken } from '../../src/db/api-tokens.js';
import { listAudit } from '../../src/db/audit-log.js';
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
const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1) ?? '';

describe('chatbot api-token', { timeout: 120_000 }, () => {
  it('create prints the token once, alone on the last line; it authenticates; the creation is audited', async () => {
    const result = await runCli(['api-token', 'create', '--name', 'crm', '--role', 'agent'], { env });
    expect(result.code).toBe(0);
    const token = lastLine(result.stdout);
    expect(token).toMatch(/^wacb_[A-Za-z0-9_-]{43}$/);
    expect(result.stdout.split(token)).toHaveLength(2);
    const apiToken = await authenticateApiToken(db(), token);
    expect(apiToken).toMatchObject({ name: 'crm', role: 'agent' });
    const [entry] = await listAudit(db(), { limit: 1, target: { type: 'api_token', id: apiToken!.id } });
    expect(entry).toMatchObject({ actorKind: 'cli', action: 'api_token.create', details: { role: 'agent' } });
  });

  it('create --json prints {"token", "id", "name", "role"}', async () => {
    const result = await runCli(['api-token', 'create', '--name', 'bi', '--role', 'viewer', '--json'], {
      env,
    });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { token: string; id: string; name: string; role: string };
    expect(printed).toMatchObject({ name: 'bi', role: 'viewer' });
    expect((await authenticateApiToken(db(), printed.token))?.id).toBe(printed.id);
  });

  it('refuses a bad role, a bad name, a missing name and a taken name', async () => {
    const [badRole, badName, noName, taken] = await Promise.all([
      runCli(['api-token', 'create', '--name', 'x', '--role', 'owner'], { env }),
      runCli(['api-token', 'create', '--name', 'has space', '--role', 'agent'], { env }),
      runCli(['api-token', 'create', '--role', 'agent'], { env }),
      runCli(['api-token', 'create', '--name', 'crm', '--role', 'viewer'], { env }),
    ]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/admin, agent, viewer/);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('token name must be');
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--name');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('a live API token named "crm" already exists');
    for (const r of [badRole, badName, noName, taken]) expect(r.stdout).not.toMatch(/wacb_/);
  });

  it('list shows names and roles but never a token; revoke stops the token and is audited', async () => {
    const created = await runCli(['api-token', 'create', '--name', 'zap', '--role', 'agent'], { env });
    const token = lastLine(created.stdout);

    const table = await runCli(['api-token', 'list'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/NAME\s+ROLE/);
    expect(table.stdout).toMatch(/zap\s+agent/);
    expect(table.stdout).not.toContain('wacb_');

    const revoked = await runCli(['api-token', 'revoke', 'zap'], { env });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('API token "zap" revoked');
    expect(await authenticateApiToken(db(), token)).toBeNull();
    const again = await runCli(['api-token', 'revoke', 'zap'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no live API token named or with id "zap"');

    const listed = await runCli(['api-token', 'list', '--json'], { env });
    const tokens = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    const zap = tokens.find((t) => t.name === 'zap');
    expect(zap?.revokedAt).toEqual(expect.any(String) as string);
    expect(listed.stdout).not.toContain('wacb_');
    const [entry] = await listAudit(db(), { limit: 1, target: { type: 'api_token', id: zap!.id as string } });
    expect(entry).toMatchObject({ actorKind: 'cli', action: 'api_token.revoke' });
  });
});
