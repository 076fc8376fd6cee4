/**
 * `chatbot number add|list|update|remove` through the real CLI entry: secrets from stdin only and stored
 * encrypted, never printed; the refusals (bad address, unknown AI configuration, duplicate, no
 * FIELD_ENCRYPTION_KEY) with their exit codes; every change audited as the CLI.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiConfig } from '../../src/db/ai-configs.js';
import { createFieldCipher, parseFieldKey } from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

const FIELD_KEY = randomBytes(32).toString('base64');
const cipher = createFieldCipher(parseFieldKey(FIELD_KEY));
const OTHER_SID = 'AC' + 'ab'.repeat(16);

let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm] = await Promise.all([createTestDatabase(), startFakeTwilio(), startFakeLlm()]);
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm, fieldKey: FIELD_KEY });
  for (const name of ['sales', 'support'])
    await createAiConfig(testDb.database.db, cipher, {
      name,
      provider: 'openai',
      apiKey: `sk-${name}`,
      model: `${name}-model`,
    });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});

async function query<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('chatbot number', { timeout: 300_000 }, () => {
  it('adds a Meta number with its secrets from stdin: stored encrypted, never printed, audited', async () => {
    const added = await runCli(
      [
        'number',
        'add',
        '--channel',
        'meta',
        '--phone-number-id',
        '106540352242922',
        '--access-token-stdin',
        '--app-secret-stdin',
        '--verify-token',
        'verify-me',
        '--ai-config',
        'support',
        '--name',
        'Support line',
      ],
      { env, input: 'EAAG-access-token\napp-secret-value\n' },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('added meta number 106540352242922');
    const [row] = await query<{ credentials_encrypted: string; name: string; persona: string }>(
      `select n.credentials_encrypted, n.name, c.name as persona from business_numbers n
       join ai_configurations c on c.id = n.ai_config_id where n.address = '106540352242922'`,
    );
    expect(row?.credentials_encrypted).not.toContain('EAAG');
    expect(JSON.parse(cipher.decrypt(row?.credentials_encrypted ?? ''))).toEqual({
      accessToken: 'EAAG-access-token',
      appSecret: 'app-secret-value',
      verifyToken: 'verify-me',
    });
    expect(row).toMatchObject({ name: 'Support line', persona: 'support' });

    const listed = await runCli(['number', 'list', '--json'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain('EAAG');
    expect(listed.stdout).not.toContain('app-secret-value');
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        channel: 'meta',
        address: '106540352242922',
        aiConfig: 'support',
        active: true,
        credentialsSet: true,
      }),
    ]);
    const audit = await query<{ actor_kind: string; action: string; details: Record<string, unknown> }>(
      `select actor_kind, action, details from audit_log where action like 'number.%'`,
    );
    expect(audit).toEqual([
      expect.objectContaining({
        actor_kind: 'cli',
        action: 'number.create',
        details: expect.objectContaining({ address: '106540352242922', hasCredentials: true }) as unknown,
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain('EAAG');
  });

  it('adds a Twilio number of another account, updates and removes it, each change audited', async () => {
    const address = 'whatsapp:+14155230001';
    const added = await runCli(
      [
        'number',
        'add',
        '--channel',
        'twilio',
        '--address',
        address,
        '--ai-config',
        'sales',
        '--account-sid',
        OTHER_SID,
        '--auth-token-stdin',
      ],
      { env, input: 'other-auth-token\n' },
    );
    expect(added.code).toBe(0);
    const table = await runCli(['number', 'list'], { env });
    expect(table.stdout).toMatch(/twilio\s+whatsapp:\+14155230001\s+\S.*\s+sales\s+yes\s+set/);
    expect(table.stdout).not.toContain('other-auth-token');

    const updated = await runCli(['number', 'update', address, '--no-ai-config', '--inactive'], { env });
    expect(updated.code).toBe(0);
    const [row] = await query<{
      ai_config_id: string | null;
      is_active: boolean;
      credentials_encrypted: string;
    }>('select ai_config_id, is_active, credentials_encrypted from business_numbers where address = $1', [
      address,
    ]);
    expect(row).toMatchObject({ ai_config_id: null, is_active: false });
    expect(JSON.parse(cipher.decrypt(row?.credentials_encrypted ?? ''))).toEqual({
      accountSid: OTHER_SID,
      authToken: 'other-auth-token',
    });

    const removed = await runCli(['number', 'remove', address], { env });
    expect(removed.code).toBe(0);
    expect(await query('select 1 from business_numbers where address = $1', [address])).toEqual([]);
    const actions = await query<{ action: string; details: { changed?: string[] } }>(
      `select action, details from audit_log where details->>'address' = $1 order by created_at`,
      [address],
    );
    expect(actions.map((a) => a.action)).toEqual(['number.create', 'number.update', 'number.delete']);
    expect(actions[1]?.details.changed?.sort()).toEqual(['aiConfigId', 'isActive']);
  });

  it('refuses a bad address, an unknown AI configuration, a duplicate and a missing key, changing nothing', async () => {
    const twilioAdd = (args: string[], extra: Record<string, string | undefined> = {}, input?: string) =>
      runCli(['number', 'add', '--channel', 'twilio', ...args], {
        env: { ...env, ...extra },
        ...(input === undefined ? {} : { input }),
      });
    const badAddress = await twilioAdd(['--address', 'whatsapp:14155'], {});
    expect(badAddress.code).toBe(2);
    expect(badAddress.stderr).toContain('not a Twilio WhatsApp sender');
    const badMeta = await runCli(['number', 'add', '--channel', 'meta', '--phone-number-id', 'abc'], { env });
    expect(badMeta.code).toBe(2);
    expect(badMeta.stderr).toContain('not a Meta phone number id');

    const unknownPersona = await twilioAdd(['--address', 'whatsapp:+14155230002', '--ai-config', 'nobody']);
    expect(unknownPersona.code).toBe(2);
    expect(unknownPersona.stderr).toContain('no AI configuration named "nobody"');

    expect((await twilioAdd(['--address', 'whatsapp:+14155230003'])).code).toBe(0);
    const duplicate = await twilioAdd(['--address', 'whatsapp:+14155230003']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('exists already');

    const noKey = await twilioAdd(
      ['--address', 'whatsapp:+14155230004', '--account-sid', OTHER_SID, '--auth-token-stdin'],
      { FIELD_ENCRYPTION_KEY: undefined },
      'a-token\n',
    );
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('FIELD_ENCRYPTION_KEY is not set');

    const halfAccount = await twilioAdd(['--address', 'whatsapp:+14155230005', '--account-sid', OTHER_SID]);
    expect(halfAccount.code).toBe(2);
    expect(halfAccount.stderr).toContain('both its account SID and its auth token');

    const noStdin = await twilioAdd(
      ['--address', 'whatsapp:+14155230006', '--account-sid', OTHER_SID, '--auth-token-stdin'],
      {},
      '',
    );
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toContain('one secret per line');

    const unknown = await runCli(['number', 'remove', 'whatsapp:+19999999999'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no business number whatsapp:+19999999999');

    const stored = await query<{ address: string }>(
      "select address from business_numbers where channel = 'twilio' order by address",
    );
    expect(stored.map((r) => r.address)).toEqual(['whatsapp:+14155230003']);
  });
});
