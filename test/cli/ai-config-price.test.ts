/**
 * `chatbot ai-config create|update --input-price X --output-price Y`: an AI configuration's own price (US dollars
 * per million tokens), both or neither, cleared with ""; a bad value is a usage error (exit 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAiConfigByName } from '../../src/db/ai-configs.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm] = await Promise.all([createTestDatabase(), startFakeTwilio(), startFakeLlm()]);
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});

const base = [
  '--provider',
  'openai-compatible',
  '--model',
  'house-model',
  '--base-url',
  'http://127.0.0.1:9/v1',
];

describe('chatbot ai-config prices', { timeout: 120_000 }, () => {
  it('stores, changes and clears a configuration’s own price; refuses half a price and a bad number', async () => {
    const created = await runCli(
      ['ai-config', 'create', '--name', 'priced', ...base, '--input-price', '0.2', '--output-price', '0.8'],
      { env },
    );
    expect(created.code).toBe(0);
    let row = await getAiConfigByName(testDb.database.db, 'priced');
    expect(row).toMatchObject({ inputPriceUsd: 0.2, outputPriceUsd: 0.8 });

    const listed = await runCli(['ai-config', 'list', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'priced', inputPriceUsd: 0.2, outputPriceUsd: 0.8 }),
    ]);

    expect(
      (await runCli(['ai-config', 'update', '--name', 'priced', '--output-price', '1.5'], { env })).code,
    ).toBe(0);
    row = await getAiConfigByName(testDb.database.db, 'priced');
    expect(row).toMatchObject({ inputPriceUsd: 0.2, outputPriceUsd: 1.5 });

    const half = await runCli(['ai-config', 'update', '--name', 'priced', '--input-price', ''], { env });
    expect(half.code).not.toBe(0);
    expect(half.stderr).toContain('give both --input-price and --output-price, or neither');

    const cleared = await runCli(
      ['ai-config', 'update', '--name', 'priced', '--input-price', '', '--output-price', ''],
      { env },
    );
    expect(cleared.code).toBe(0);
    row = await getAiConfigByName(testDb.database.db, 'priced');
    expect(row).toMatchObject({ inputPriceUsd: null, outputPriceUsd: null });

    const bad = await runCli(
      ['ai-config', 'create', '--name', 'bad', ...base, '--input-price', 'cheap', '--output-price', '1'],
      { env },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--input-price');
    expect(await getAiConfigByName(testDb.database.db, 'bad')).toBeNull();
  });
});
