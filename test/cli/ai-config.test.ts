import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getAiConfigByName, listAiConfigs } from '../../src/db/ai-configs.js';
import {
  createFieldCipher,
  generateFieldKey,
  keyIdOf,
  parseFieldKey,
} from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

const API_KEY = 'sk-or-v1-5e3c0de1a2b3c4d5e6f7a8b9x9f2';
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
beforeEach(async () => {
  llm.reset();
  await testDb.database.db.execute('delete from ai_configurations');
});

const db = () => testDb.database.db;
const create = (name: string, extra: string[] = []) =>
  runCli(
    [
      'ai-config',
      'create',
      '--name',
      name,
      '--provider',
      'openai-compatible',
      '--api-key',
      API_KEY,
      '--model',
      `${name}-model`,
      '--base-url',
      llm.openaiBaseUrl,
      ...extra,
    ],
    { env },
  );

describe('chatbot ai-config', { timeout: 120_000 }, () => {
  it('create → list --json → update --activate → test → delete, with the key only ever masked', async () => {
    const created = await create('main', [
      '--temperature',
      '0.2',
      '--max-tokens',
      '300',
      '--system-prompt',
      'Be kind.',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('✓ created "main": openai-compatible main-model, key sk-or-…x9f2');
    const stored = await getAiConfigByName(db(), 'main');
    expect(stored).toMatchObject({
      provider: 'openai-compatible',
      model: 'main-model',
      temperature: 0.2,
      maxTokens: 300,
      isActive: false,
    });
    expect(stored?.apiKeyEncrypted).not.toContain(API_KEY);
    expect(createFieldCipher(parseFieldKey(fieldKey)).decrypt(stored!.apiKeyEncrypted!)).toBe(API_KEY);

    const listed = await runCli(['ai-config', 'list', '--json'], { env });
    expect(listed.code).toBe(0);
    const views = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(views).toEqual([
      expect.objectContaining({
        name: 'main',
        apiKeyMasked: 'sk-or-…x9f2',
        isActive: false,
        systemPrompt: 'Be kind.',
      }),
    ]);
    expect(listed.stdout).not.toContain(API_KEY);
    expect(views[0]).not.toHaveProperty('apiKeyEncrypted');

    const table = await runCli(['ai-config', 'list'], { env });
    expect(table.stdout).toMatch(/NAME\s+PROVIDER\s+MODEL\s+API KEY/);
    expect(table.stdout).not.toContain(API_KEY);

    const updated = await runCli(
      ['ai-config', 'update', '--name', 'main', '--model', 'better-model', '--activate'],
      { env },
    );
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain('ACTIVE');
    expect(await getAiConfigByName(db(), 'main')).toMatchObject({
      model: 'better-model',
      isActive: true,
      temperature: 0.2,
    });

    llm.respond(() => ({ text: 'Yes, I am working.' }));
    const tested = await runCli(['ai-config', 'test', '--name', 'main', '--prompt', 'ping?'], { env });
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/✓ "main" \(openai-compatible better-model\) answered in \d+ ms/);
    expect(tested.stdout).toContain('Yes, I am working.');
    const request = llm.requests.at(-1)!;
    expect(request.model).toBe('better-model');
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.messages).toEqual([
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'ping?' },
    ]);
    expect((request.body as { temperature: number }).temperature).toBe(0.2);

    const activeTest = await runCli(['ai-config', 'test', '--json'], { env });
    expect(activeTest.code).toBe(0);
    expect(JSON.parse(activeTest.stdout)).toMatchObject({
      model: 'better-model',
      answer: 'Yes, I am working.',
    });

    const deleted = await runCli(['ai-config', 'delete', '--name', 'main'], { env });
    expect(deleted.code).toBe(0);
    expect(await listAiConfigs(db())).toEqual([]);
    const again = await runCli(['ai-config', 'delete', '--name', 'main'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no AI configuration named "main"');
  });

  it('test without a name and without an active configuration uses the environment settings', async () => {
    const result = await runCli(['ai-config', 'test'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the environment settings (openai gpt-env)');
    expect(llm.requests.at(-1)?.model).toBe('gpt-env');
  });

  it('test reports a provider failure with exit 1, never the key', async () => {
    await create('main');
    llm.respond(() => ({ status: 401, errorMessage: `Incorrect API key provided: ${API_KEY}` }));
    const result = await runCli(['ai-config', 'test', '--name', 'main'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"main" (openai-compatible main-model) failed');
    expect(result.stderr + result.stdout).not.toContain(API_KEY);
  });

  it('test --json prints ok:false with the error kind and message when the test fails (exit 1)', async () => {
    await create('main');
    llm.respond(() => ({ status: 401, errorMessage: `Incorrect API key provided: ${API_KEY}` }));
    const result = await runCli(['ai-config', 'test', '--name', 'main', '--json'], { env });
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout) as {
      ok: boolean;
      target: string;
      error: { kind: string; message: string };
    };
    expect(output).toMatchObject({ ok: false, target: '"main" (openai-compatible main-model)' });
    expect(output.error.kind).toBe('ai_auth');
    expect(output.error.message).not.toBe('');
    expect(result.stderr + result.stdout).not.toContain(API_KEY);

    const missing = await runCli(['ai-config', 'test', '--name', 'nope', '--json'], { env });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({
      ok: false,
      target: null,
      error: { kind: 'error', message: 'no AI configuration named "nope"' },
    });
  });

  it('update with no change option exits 2 with "nothing to update" and changes nothing', async () => {
    await create('main');
    const before = await getAiConfigByName(db(), 'main');
    const result = await runCli(['ai-config', 'update', '--name', 'main'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nothing to update: give at least one option');
    expect(result.stdout).not.toContain('updated');
    expect(await getAiConfigByName(db(), 'main')).toEqual(before);
  });

  it('activate switches the active configuration; deactivate returns to the environment', async () => {
    await create('a', ['--activate']);
    await create('b');
    expect((await runCli(['ai-config', 'activate', '--name', 'b'], { env })).code).toBe(0);
    expect((await listAiConfigs(db())).filter((r) => r.isActive).map((r) => r.name)).toEqual(['b']);
    const off = await runCli(['ai-config', 'deactivate'], { env });
    expect(off.stdout).toContain('deactivated "b"');
    expect((await listAiConfigs(db())).some((r) => r.isActive)).toBe(false);
  });

  it('activate runs the live test first: a refusing provider is not activated (exit 1), --force activates it', async () => {
    await create('a', ['--activate']);
    await create('b');
    const activeNames = async () => (await listAiConfigs(db())).filter((r) => r.isActive).map((r) => r.name);

    llm.respond(() => ({ status: 401, errorMessage: 'Incorrect API key provided' }));
    const refused = await runCli(['ai-config', 'activate', '--name', 'b'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('✗ not activated: the live test of "b" failed (ai_auth)');
    expect(refused.stderr).toContain('The provider refused the API key.');
    expect(refused.stderr).toContain('activate it anyway with --force');
    expect(refused.stdout).not.toContain('activated "b"');
    expect(llm.requests.at(-1)).toMatchObject({ model: 'b-model' });
    expect(await activeNames()).toEqual(['a']);

    const forced = await runCli(['ai-config', 'activate', '--name', 'b', '--force'], { env });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('! activated anyway (--force): the live test of "b" failed (ai_auth)');
    expect(forced.stdout).toContain('✓ activated "b"');
    expect(await activeNames()).toEqual(['b']);

    llm.reset();
    const working = await runCli(['ai-config', 'activate', '--name', 'a'], { env });
    expect(working.code).toBe(0);
    expect(working.stdout).toMatch(/✓ live test passed: a-model answered in \d+ ms/);
    expect(working.stderr).toBe('');
    expect(await activeNames()).toEqual(['a']);
  });

  it('create and update --activate run the live test; an unreachable provider is stored but not activated', async () => {
    await create('a', ['--activate']);
    const closed = `http://127.0.0.1:${await freePort()}/v1`;
    const activeNames = async () => (await listAiConfigs(db())).filter((r) => r.isActive).map((r) => r.name);

    const created = await create('down', ['--base-url', closed, '--activate']);
    expect(created.code).toBe(1);
    expect(created.stderr).toContain(
      '✗ created "down" but did not activate it: the live test of "down" failed (ai_unavailable)',
    );
    expect(created.stderr).toContain('ECONNREFUSED');
    expect(await getAiConfigByName(db(), 'down')).toMatchObject({ isActive: false, baseUrl: closed });
    expect(await activeNames()).toEqual(['a']);

    const updated = await runCli(
      ['ai-config', 'update', '--name', 'down', '--model', 'other-model', '--activate'],
      { env },
    );
    expect(updated.code).toBe(1);
    expect(updated.stderr).toContain('✗ updated "down" but did not activate it');
    expect(await getAiConfigByName(db(), 'down')).toMatchObject({ isActive: false, model: 'other-model' });
    expect(await activeNames()).toEqual(['a']);

    const forced = await runCli(
      ['ai-config', 'update', '--name', 'down', '--activate', '--force', '--json'],
      {
        env,
      },
    );
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ name: 'down', isActive: true });
    expect(forced.stderr).toContain('! activated anyway (--force)');
    expect(await activeNames()).toEqual(['down']);

    const fixed = await runCli(['ai-config', 'update', '--name', 'a', '--model', 'a2-model', '--activate'], {
      env,
    });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('✓ live test passed: a2-model answered');
    expect(await activeNames()).toEqual(['a']);

    const createdForced = await create('down2', ['--base-url', closed, '--activate', '--force']);
    expect(createdForced.code).toBe(0);
    expect(createdForced.stdout).toContain('✓ created "down2"');
    expect(await activeNames()).toEqual(['down2']);

    const lonely = await create('c', ['--force']);
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toContain('--force goes with --activate');
    expect(await getAiConfigByName(db(), 'c')).toBeNull();
  });

  it('reads the API key from stdin with --api-key-stdin', async () => {
    const result = await runCli(
      [
        'ai-config',
        'create',
        '--name',
        'piped',
        '--provider',
        'openrouter',
        '--model',
        'openai/gpt-4o-mini',
        '--api-key-stdin',
      ],
      { env, input: `${API_KEY}\n` },
    );
    expect(result.code).toBe(0);
    const row = await getAiConfigByName(db(), 'piped');
    expect(createFieldCipher(parseFieldKey(fieldKey)).decrypt(row!.apiKeyEncrypted!)).toBe(API_KEY);
  });

  it('refuses bad values with exit 2 and a duplicate name with exit 1, storing nothing', async () => {
    await create('main');
    const results = await Promise.all([
      create('t', ['--temperature', '2.5']),
      create('m', ['--max-tokens', '0']),
      create('u', ['--base-url', 'ftp://x']),
      runCli(['ai-config', 'create', '--name', 'k', '--provider', 'openai', '--model', 'gpt-4o'], { env }),
      runCli(['ai-config', 'create', '--name', 'n', '--provider', 'openai', '--api-key', API_KEY], { env }),
      runCli(
        ['ai-config', 'create', '--name', 'e', '--provider', 'openai', '--api-key', API_KEY, '--model', 'm'],
        {
          env: { ...env, FIELD_ENCRYPTION_KEY: undefined },
        },
      ),
    ]);
    const [temperature, maxTokens, baseUrl, noKey, noModel, noFieldKey] = results;
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(temperature.stderr).toContain('must be a number from 0 to 2');
    expect(maxTokens.stderr).toContain('must be a whole number above 0');
    expect(baseUrl.stderr).toContain('must be an http:// or https:// URL');
    expect(noKey.stderr).toContain('api key: required for the openai provider');
    expect(noModel.stderr).toContain("required option '--model <model>' not specified");
    expect(noFieldKey.stderr).toMatch(/FIELD_ENCRYPTION_KEY is not set.*chatbot generate-key/);
    for (const result of results) expect(result.stderr + result.stdout).not.toContain(API_KEY);

    const duplicate = await create('main');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('An AI configuration named "main" already exists');
    expect((await listAiConfigs(db())).map((r) => r.name)).toEqual(['main']);
  });

  it('rotate-key re-encrypts every key with the new key; the old key alone no longer reads them', async () => {
    await create('a');
    await create('b');
    const newKey = generateFieldKey();
    const withoutOld = await runCli(['ai-config', 'rotate-key'], {
      env: { ...env, FIELD_ENCRYPTION_KEY: newKey },
    });
    expect(withoutOld.code).toBe(1);
    expect(withoutOld.stderr).toMatch(/FIELD_ENCRYPTION_KEY_PREVIOUS/);

    const rotated = await runCli(['ai-config', 'rotate-key'], {
      env: { ...env, FIELD_ENCRYPTION_KEY: newKey, FIELD_ENCRYPTION_KEY_PREVIOUS: fieldKey },
    });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(
      `✓ re-encrypted 2 API key(s) with key ${keyIdOf(parseFieldKey(newKey))}`,
    );
    const onlyNew = createFieldCipher(parseFieldKey(newKey));
    for (const row of await listAiConfigs(db())) expect(onlyNew.decrypt(row.apiKeyEncrypted!)).toBe(API_KEY);

    const listedWithNew = await runCli(['ai-config', 'list', '--json'], {
      env: { ...env, FIELD_ENCRYPTION_KEY: newKey },
    });
    expect(JSON.parse(listedWithNew.stdout)).toEqual([
      expect.objectContaining({ apiKeyMasked: 'sk-or-…x9f2' }),
      expect.objectContaining({ apiKeyMasked: 'sk-or-…x9f2' }),
    ]);
    const listedWithOld = await runCli(['ai-config', 'list', '--json'], { env });
    expect(JSON.parse(listedWithOld.stdout)).toEqual([
      expect.objectContaining({ apiKeyMasked: '(undecryptable)' }),
      expect.objectContaining({ apiKeyMasked: '(undecryptable)' }),
    ]);
  });
});
