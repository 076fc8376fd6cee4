/**
 * `chatbot ai-config create|update --vision/--no-vision/--vision default`, `--voice-answers/--no-voice-answers`,
 * `--voice`, and how list and show report them (issue #15), run as the real CLI against a real PostgreSQL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getAiConfigByName } from '../../src/db/ai-configs.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
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
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm, fieldKey: generateFieldKey() });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});
beforeEach(async () => {
  await testDb.database.db.execute('delete from ai_configurations');
});

const db = () => testDb.database.db;
const create = (name: string, model: string, extra: string[] = []) =>
  runCli(
    [
      'ai-config',
      'create',
      '--name',
      name,
      '--provider',
      'openai-compatible',
      '--model',
      model,
      '--base-url',
      llm.openaiBaseUrl,
      ...extra,
    ],
    { env },
  );
const update = (name: string, extra: string[]) =>
  runCli(['ai-config', 'update', '--name', name, ...extra], { env });

describe('chatbot ai-config vision and voice options', { timeout: 120_000 }, () => {
  it('create leaves vision to the table by default; --vision, --no-vision and --vision default set and reset it', async () => {
    const created = await create('main', 'gpt-4o-mini');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('vision default (yes)');
    expect(await getAiConfigByName(db(), 'main')).toMatchObject({
      vision: null,
      voiceAnswers: false,
      voice: null,
    });

    const off = await update('main', ['--no-vision']);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('vision no');
    expect((await getAiConfigByName(db(), 'main'))?.vision).toBe(false);

    expect((await update('main', ['--vision'])).code).toBe(0);
    expect((await getAiConfigByName(db(), 'main'))?.vision).toBe(true);

    expect((await update('main', ['--vision', 'default'])).code).toBe(0);
    expect((await getAiConfigByName(db(), 'main'))?.vision).toBeNull();

    const local = await create('local', 'llava:13b', ['--no-vision']);
    expect(local.code).toBe(0);
    expect((await getAiConfigByName(db(), 'local'))?.vision).toBe(false);
  });

  it('sets and clears voice answers and the voice', async () => {
    expect((await create('main', 'gpt-4o-mini', ['--voice-answers', '--voice', 'nova'])).code).toBe(0);
    expect(await getAiConfigByName(db(), 'main')).toMatchObject({ voiceAnswers: true, voice: 'nova' });

    expect((await update('main', ['--no-voice-answers', '--voice', ''])).code).toBe(0);
    expect(await getAiConfigByName(db(), 'main')).toMatchObject({ voiceAnswers: false, voice: null });
  });

  it('list and show report vision and voice answers, in the table and in JSON', async () => {
    await create('seeing', 'gpt-4o-mini', ['--voice-answers', '--voice', 'alloy']);
    await create('blind', 'llama3.1:8b');

    const table = await runCli(['ai-config', 'list'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/VISION\s+VOICE ANSWERS/);
    expect(table.stdout).toMatch(/blind .*default \(no\)\s+off/);
    expect(table.stdout).toMatch(/seeing .*default \(yes\)\s+on \(alloy\)/);

    const json = JSON.parse((await runCli(['ai-config', 'list', '--json'], { env })).stdout) as Array<
      Record<string, unknown>
    >;
    expect(
      json.map(({ name, vision, voiceAnswers, voice }) => ({ name, vision, voiceAnswers, voice })),
    ).toEqual([
      { name: 'blind', vision: null, voiceAnswers: false, voice: null },
      { name: 'seeing', vision: null, voiceAnswers: true, voice: 'alloy' },
    ]);

    await update('blind', ['--vision']);
    const shown = await runCli(['ai-config', 'show', '--name', 'blind'], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^vision:\s+yes$/m);
    expect(shown.stdout).toMatch(/^voice answers:\s+off$/m);
    expect(shown.stdout).toMatch(/^model:\s+llama3\.1:8b$/m);
    const shownJson = await runCli(['ai-config', 'show', '--name', 'blind', '--json'], { env });
    expect(JSON.parse(shownJson.stdout)).toMatchObject({ name: 'blind', vision: true });

    const missing = await runCli(['ai-config', 'show', '--name', 'nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no AI configuration named "nope"');
  });

  it('refuses a bad --vision value and a bad voice with exit 2, changing nothing', async () => {
    await create('main', 'gpt-4o-mini');
    const bad = await update('main', ['--vision', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--vision');
    const badVoice = await update('main', ['--voice', 'two words']);
    expect(badVoice.code).toBe(2);
    expect(badVoice.stderr).toContain('voice:');
    expect(await getAiConfigByName(db(), 'main')).toMatchObject({ vision: null, voice: null });
  });

  it('the update and its audit row name the changed switches', async () => {
    await create('main', 'gpt-4o-mini');
    expect((await update('main', ['--no-vision', '--voice-answers'])).code).toBe(0);
    const result = await db().execute(
      "select details from audit_log where action = 'ai-config.update' order by created_at desc limit 1",
    );
    const details = (result as { rows: Array<{ details: Record<string, unknown> }> }).rows[0]?.details;
    expect(details).toMatchObject({ changed: ['vision', 'voiceAnswers'], vision: false, voiceAnswers: true });
  });
});
