import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm] = await Promise.all([createTestDatabase(), startFakeTwilio(), startFakeLlm()]);
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm, fieldKey: generateFieldKey() });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});
beforeEach(() => {
  twilio.reset();
  llm.reset();
});

describe('chatbot validate-config', { timeout: 120_000 }, () => {
  it('checks the settings and really reaches PostgreSQL, Redis, Twilio and the LLM (exit 0)', async () => {
    const result = await runCli(['validate-config'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ settings: valid');
    expect(result.stdout).toMatch(/✓ FIELD_ENCRYPTION_KEY: set \(key id [0-9a-f]{8}\)/);
    expect(result.stdout).toMatch(/✓ PostgreSQL: connected .*schema present/);
    expect(result.stdout).toMatch(/✓ Redis: PONG/);
    expect(result.stdout).toContain(`✓ Twilio: account ${twilio.accountSid}`);
    expect(result.stdout).toMatch(
      /✓ AI provider: openai gpt-env answered in \d+ ms \(environment settings\)/,
    );
    expect(result.stdout).not.toContain('✗');
    expect(llm.requests.map((r) => r.model)).toEqual(['gpt-env']);
    expect(twilio.requests).toHaveLength(1);
  });

  it('reports a wrong Twilio auth token with ✗ and exits 1, the other checks still passing', async () => {
    const result = await runCli(['validate-config'], { env: { ...env, TWILIO_AUTH_TOKEN: 'not-the-token' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ Twilio: .*HTTP 401/);
    expect(result.stdout).toMatch(/✓ PostgreSQL/);
    expect(result.stdout).toMatch(/✓ AI provider/);
    expect(result.stdout).not.toContain('not-the-token');
  });

  it('reports unreachable services and a failing LLM, one ✗ line each (exit 1)', async () => {
    const closedPort = await freePort();
    llm.respond(() => ({ status: 401 }));
    const result = await runCli(['validate-config'], {
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${closedPort}` },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ Redis: /);
    expect(result.stdout).toMatch(/✗ AI provider: /);
    expect(result.stdout).not.toContain('sk-env-key-for-tests');
  });

  it('with --skip-external checks the settings only, connecting to nothing', async () => {
    const closedPort = await freePort();
    const result = await runCli(['validate-config', '--skip-external'], {
      env: {
        ...env,
        DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/none`,
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
        TWILIO_AUTH_TOKEN: 'not-the-token',
      },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ settings: valid');
    expect(result.stdout).toContain('connection checks skipped');
    expect(twilio.requests).toHaveLength(0);
    expect(llm.requests).toHaveLength(0);
  });

  it('lists every invalid setting with ✗ and exits 2', async () => {
    const result = await runCli(['validate-config', '--skip-external'], {
      env: {
        ...env,
        PORT: 'eighty',
        TWILIO_WHATSAPP_NUMBER: '+14155238886',
        FIELD_ENCRYPTION_KEY: 'too-short',
      },
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/✗ PORT: /);
    expect(result.stdout).toMatch(/✗ TWILIO_WHATSAPP_NUMBER: /);
    expect(result.stdout).toMatch(/✗ FIELD_ENCRYPTION_KEY: .*chatbot generate-key/);
    expect(result.stdout).not.toContain('too-short');
  });

  it('tests the active AI configuration instead of the environment, and flags keys it cannot decrypt', async () => {
    const created = await runCli(
      [
        'ai-config',
        'create',
        '--name',
        'main',
        '--provider',
        'openai',
        '--api-key',
        'sk-db-key-0000000000001234',
      ],
      { env: { ...env }, input: '' },
    );
    // --model is mandatory: the command above must fail with a usage error and store nothing.
    expect(created.code).toBe(2);
    const ok = await runCli(
      [
        'ai-config',
        'create',
        '--name',
        'main',
        '--provider',
        'openai',
        '--api-key',
        'sk-db-key-0000000000001234',
        '--model',
        'db-model',
        '--base-url',
        llm.openaiBaseUrl,
        '--activate',
      ],
      { env },
    );
    expect(ok.code).toBe(0);
    const result = await runCli(['validate-config'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✓ AI configurations: 1 stored, "main" active; every stored key decrypts/);
    expect(result.stdout).toMatch(
      /✓ AI provider: openai db-model answered in \d+ ms \(configuration "main"\)/,
    );
    expect(llm.requests.at(-1)?.model).toBe('db-model');
    expect(llm.requests.at(-1)?.headers.authorization).toBe('Bearer sk-db-key-0000000000001234');

    const wrongKey = await runCli(['validate-config'], {
      env: { ...env, FIELD_ENCRYPTION_KEY: generateFieldKey() },
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toMatch(
      /✗ AI configurations: keys that do not decrypt: "main": the value was encrypted with key/,
    );
    expect(wrongKey.stdout).toMatch(/✗ AI provider: the active configuration cannot be used/);
  });
});
