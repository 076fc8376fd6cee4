import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFieldKey, keyIdOf, parseFieldKey } from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

const API_KEY = 'sk-or-v1-audit-secret-0123456789';
let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let fieldKey: string;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm] = await Promise.all([createTestDatabase(), startFakeTwilio(), startFakeLlm()]);
  fieldKey = generateFieldKey();
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm, fieldKey });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});

interface Row extends Record<string, unknown> {
  actor_kind: string;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
}
const audited = async () => {
  const result = (await testDb.database.db.execute(
    'select actor_kind, actor_name, action, target_type, target_id, details from audit_log order by created_at, id',
  )) as { rows: Row[] };
  return result.rows;
};

describe('chatbot ai-config writes the audit log', { timeout: 120_000 }, () => {
  it('create --activate, update, deactivate, delete and rotate-key each leave a CLI row, never with a key', async () => {
    llm.respond(() => ({ text: 'Yes.' }));
    const run = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const result = await runCli(['ai-config', ...args], { env: { ...env, ...extraEnv } });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    };
    await run([
      'create',
      ...['--name', 'main', '--provider', 'openai-compatible', '--api-key', API_KEY],
      ...['--model', 'first', '--base-url', llm.openaiBaseUrl, '--activate'],
    ]);
    await run(['update', '--name', 'main', '--model', 'second', '--rename', 'primary']);
    await run(['update', '--name', 'primary', '--deactivate']);
    const newKey = generateFieldKey();
    await run(['rotate-key'], { FIELD_ENCRYPTION_KEY: newKey, FIELD_ENCRYPTION_KEY_PREVIOUS: fieldKey });
    await run(['delete', '--name', 'primary'], { FIELD_ENCRYPTION_KEY: newKey });

    const rows = await audited();
    expect(rows.map((r) => r.action)).toEqual([
      'ai-config.create',
      'ai-config.activate',
      'ai-config.update',
      'ai-config.deactivate',
      'ai-config.rotate-key',
      'ai-config.delete',
    ]);
    for (const row of rows) expect(row).toMatchObject({ actor_kind: 'cli', actor_name: 'cli' });
    const id = rows[0]!.target_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    for (const row of rows.filter((r) => r.action !== 'ai-config.rotate-key'))
      expect(row).toMatchObject({ target_type: 'ai-config', target_id: id });
    expect(rows[0]!.details).toMatchObject({ name: 'main', model: 'first', hasKey: true });
    expect(rows[1]!.details).toMatchObject({ forced: false });
    expect(rows[2]!.details).toMatchObject({
      name: 'primary',
      previousName: 'main',
      changed: ['name', 'model'],
    });
    expect(rows[4]!.details).toMatchObject({ keyId: keyIdOf(parseFieldKey(newKey)), rotated: 1 });
    const text = JSON.stringify(rows);
    expect(text).not.toContain('audit-secret');
    expect(text).not.toContain(newKey);
    expect(text).not.toContain(fieldKey);
  });
});
