import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFieldKey } from '../../src/security/field-encryption.js';
import { createEmptyTestDatabase } from '../helpers/database.js';
import { runCli } from './run-cli.js';

const COMMANDS = [
  [],
  ['migrate'],
  ['createsuperuser'],
  ['validate-config'],
  ['test-whatsapp'],
  ['send'],
  ['broadcast'],
  ['generate-key'],
  ['ai-config'],
  ['ai-config', 'list'],
  ['ai-config', 'create'],
  ['ai-config', 'update'],
  ['ai-config', 'activate'],
  ['ai-config', 'deactivate'],
  ['ai-config', 'delete'],
  ['ai-config', 'test'],
  ['ai-config', 'rotate-key'],
];

describe('chatbot CLI basics', { timeout: 120_000 }, () => {
  it('prints --help for every command and exits 0', async () => {
    const results = await Promise.all(COMMANDS.map((command) => runCli([...command, '--help'])));
    results.forEach((result, i) => {
      expect(result.code, COMMANDS[i]!.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: chatbot/);
    });
    expect(results[0]!.stdout).toMatch(
      /createsuperuser[\s\S]*validate-config[\s\S]*test-whatsapp[\s\S]*ai-config/,
    );
  });

  it('exits 2 with a message for an unknown command, an unknown flag and a bad value', async () => {
    const [unknown, flag, value] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['validate-config', '--bogus']),
      runCli(['ai-config', 'create', '--name', 'x', '--provider', 'gemini', '--model', 'm']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--bogus'");
    expect(value.code).toBe(2);
    expect(value.stderr).toMatch(/Allowed choices are openrouter, openai, anthropic, openai-compatible/);
  });

  it('generate-key prints only a valid 32-byte key on stdout', async () => {
    const result = await runCli(['generate-key']);
    expect(result.code).toBe(0);
    expect(parseFieldKey(result.stdout.trim())).toHaveLength(32);
    expect(result.stderr).toContain('FIELD_ENCRYPTION_KEY');
  });
});

describe('chatbot migrate', { timeout: 120_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createEmptyTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('applies the migrations once, then says the schema is up to date', async () => {
    const first = await runCli(['migrate'], { env: { DATABASE_URL: database.url } });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/✓ PostgreSQL: applied \d+ migration\(s\)/);
    const second = await runCli(['migrate'], { env: { DATABASE_URL: database.url } });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('✓ PostgreSQL: already up to date');
  });

  it('exits 2 naming the variable when the configuration is invalid', async () => {
    const result = await runCli(['migrate'], { env: { DATABASE_URL: 'mysql://nope' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DATABASE_URL');
  });
});
