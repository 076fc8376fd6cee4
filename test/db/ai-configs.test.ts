import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  activateAiConfig,
  aiConfigProblems,
  createAiConfig,
  deactivateAiConfig,
  deactivateAiConfigs,
  deleteAiConfig,
  getActiveAiConfig,
  getAiConfig,
  getAiConfigByName,
  listAiConfigs,
  reencryptAiConfigKeys,
  toAiConfigView,
  updateAiConfig,
  type AiConfigInput,
} from '../../src/db/ai-configs.js';
import type { Db } from '../../src/db/connect.js';
import { createFieldCipher } from '../../src/security/field-encryption.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let db: Db;
const cipher = createFieldCipher(randomBytes(32));
const KEY = 'sk-or-v1-0123456789abcdef0123x9f2';

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});
beforeEach(async () => {
  for (const row of await listAiConfigs(db)) await deleteAiConfig(db, { id: row.id });
});

const input = (name: string, extra: Partial<AiConfigInput> = {}): AiConfigInput => ({
  name,
  provider: 'openrouter',
  apiKey: KEY,
  model: 'openai/gpt-4o-mini',
  ...extra,
});

const activeNames = async () => (await listAiConfigs(db)).filter((r) => r.isActive).map((r) => r.name);

describe('AI configurations repository', () => {
  it('stores the API key encrypted and shows it only masked', async () => {
    const row = await createAiConfig(db, cipher, input('main'));
    expect(row.apiKeyEncrypted).toMatch(/^v1:/);
    expect(row.apiKeyEncrypted).not.toContain(KEY);
    expect(cipher.decrypt(row.apiKeyEncrypted!)).toBe(KEY);
    const view = toAiConfigView(row, cipher);
    expect(view.apiKeyMasked).toBe('sk-or-…x9f2');
    expect(JSON.stringify(view)).not.toContain(KEY);
    expect(toAiConfigView(row, null).apiKeyMasked).toBe('(encrypted)');
    expect(toAiConfigView(row, createFieldCipher(randomBytes(32))).apiKeyMasked).toBe('(undecryptable)');
  });

  it('finds configurations by name and id, and lists them by name', async () => {
    const b = await createAiConfig(db, cipher, input('b-config'));
    await createAiConfig(db, cipher, input('a-config'));
    expect((await getAiConfigByName(db, 'b-config'))?.id).toBe(b.id);
    expect((await getAiConfig(db, { id: b.id }))?.name).toBe('b-config');
    expect(await getAiConfig(db, { id: 'not-a-uuid' })).toBeNull();
    expect(await getAiConfigByName(db, 'missing')).toBeNull();
    expect((await listAiConfigs(db)).map((r) => r.name)).toEqual(['a-config', 'b-config']);
  });

  it('refuses a duplicate name with an already_exists error', async () => {
    await createAiConfig(db, cipher, input('main'));
    await expect(createAiConfig(db, cipher, input('main'))).rejects.toMatchObject({
      kind: 'invalid_input',
      code: 'already_exists',
    });
  });

  it('refuses a key without FIELD_ENCRYPTION_KEY, but stores a keyless local server', async () => {
    await expect(createAiConfig(db, null, input('main'))).rejects.toThrow(/FIELD_ENCRYPTION_KEY is not set/);
    const local = await createAiConfig(db, null, {
      name: 'ollama',
      provider: 'openai-compatible',
      model: 'llama3.2',
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
    expect(local.apiKeyEncrypted).toBeNull();
  });

  it.each([
    [{ provider: 'gemini' }, /provider: must be one of openrouter, openai, anthropic, openai-compatible/],
    [{ model: '  ' }, /model: must not be empty/],
    [{ temperature: 2.5 }, /temperature: must be a number from 0 to 2/],
    [{ temperature: -0.1 }, /temperature/],
    [{ maxTokens: 0 }, /max tokens: must be a whole number above 0/],
    [{ maxTokens: 1.5 }, /max tokens/],
    [{ baseUrl: 'ftp://example.com' }, /base URL: must be an http/],
    [{ apiKey: undefined }, /api key: required for the openrouter provider/],
    [{ provider: 'openai-compatible' }, /base URL: required for the openai-compatible provider/],
    [{ provider: 'anthropic', model: 'anthropic/claude-sonnet-4-6' }, /without a provider prefix/],
    [{ name: '' }, /name:/],
  ] as const)('refuses invalid values (%o)', async (extra, message) => {
    await expect(createAiConfig(db, cipher, input('bad', extra))).rejects.toThrow(message);
    expect(await listAiConfigs(db)).toEqual([]);
  });

  it('lists every problem at once', () => {
    const problems = aiConfigProblems({
      name: 'x',
      provider: 'openai',
      hasKey: false,
      apiKey: undefined,
      model: '',
      baseUrl: 'nope',
      systemPrompt: null,
      temperature: 9,
      maxTokens: -1,
    });
    expect(problems).toHaveLength(5);
  });

  it('activates one configuration at a time, and deactivates', async () => {
    const a = await createAiConfig(db, cipher, input('a'), { activate: true });
    expect(a.isActive).toBe(true);
    await createAiConfig(db, cipher, input('b'));
    expect((await activateAiConfig(db, { name: 'b' })).isActive).toBe(true);
    expect(await activeNames()).toEqual(['b']);
    expect((await getActiveAiConfig(db))?.name).toBe('b');
    expect(await deactivateAiConfig(db, { name: 'a' })).toBe(false);
    expect(await deactivateAiConfig(db, { name: 'b' })).toBe(true);
    expect(await getActiveAiConfig(db)).toBeNull();
    await activateAiConfig(db, { name: 'a' });
    expect((await deactivateAiConfigs(db))?.name).toBe('a');
    await expect(activateAiConfig(db, { name: 'missing' })).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('leaves exactly one active after many concurrent activations', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `c${i}`);
    for (const name of names) await createAiConfig(db, cipher, input(name));
    await Promise.all(names.map((name) => activateAiConfig(db, { name })));
    expect(await activeNames()).toHaveLength(1);
  });

  it('is guarded by the database: a second active row is refused even by raw SQL', async () => {
    await createAiConfig(db, cipher, input('a'), { activate: true });
    const b = await createAiConfig(db, cipher, input('b'));
    await expect(
      testDb.database.db.execute(`update ai_configurations set is_active = true where id = '${b.id}'`),
    ).rejects.toThrow();
    expect(await activeNames()).toEqual(['a']);
  });

  it('updates only the given fields, validates the result, and moves updated_at', async () => {
    const created = await createAiConfig(
      db,
      cipher,
      input('main', { temperature: 0.3, systemPrompt: 'Be brief.' }),
    );
    const updated = await updateAiConfig(
      db,
      cipher,
      { name: 'main' },
      { model: 'openai/gpt-4.1', maxTokens: 200 },
    );
    expect(updated).toMatchObject({
      model: 'openai/gpt-4.1',
      maxTokens: 200,
      temperature: 0.3,
      systemPrompt: 'Be brief.',
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(updated.apiKeyEncrypted).toBe(created.apiKeyEncrypted);

    const rekeyed = await updateAiConfig(
      db,
      cipher,
      { id: created.id },
      { apiKey: 'sk-new-key-000000000000abcd', systemPrompt: null },
    );
    expect(cipher.decrypt(rekeyed.apiKeyEncrypted!)).toBe('sk-new-key-000000000000abcd');
    expect(rekeyed.systemPrompt).toBeNull();

    await expect(updateAiConfig(db, cipher, { name: 'main' }, { temperature: 3 })).rejects.toThrow(
      /temperature/,
    );
    await expect(updateAiConfig(db, cipher, { name: 'main' }, { apiKey: null })).rejects.toThrow(
      /api key: required/,
    );
    await expect(updateAiConfig(db, cipher, { name: 'nope' }, { model: 'x' })).rejects.toMatchObject({
      kind: 'not_found',
    });
    await createAiConfig(db, cipher, input('other'));
    await expect(updateAiConfig(db, cipher, { name: 'main' }, { name: 'other' })).rejects.toMatchObject({
      code: 'already_exists',
    });
  });

  it('stores vision (null: the table decides), voice answers and the voice; update changes or resets them', async () => {
    const plain = await createAiConfig(db, cipher, input('plain'));
    expect(plain).toMatchObject({ vision: null, voiceAnswers: false, voice: null });
    expect(toAiConfigView(plain, cipher)).toMatchObject({ vision: null, voiceAnswers: false, voice: null });

    const seeing = await createAiConfig(
      db,
      cipher,
      input('seeing', { vision: true, voiceAnswers: true, voice: 'nova' }),
    );
    expect(seeing).toMatchObject({ vision: true, voiceAnswers: true, voice: 'nova' });

    const blind = await updateAiConfig(db, cipher, { name: 'seeing' }, { vision: false });
    expect(blind).toMatchObject({ vision: false, voiceAnswers: true, voice: 'nova' });
    // Other fields leave them as they are.
    expect(await updateAiConfig(db, cipher, { name: 'seeing' }, { maxTokens: 99 })).toMatchObject({
      vision: false,
      voiceAnswers: true,
      voice: 'nova',
    });
    const reset = await updateAiConfig(
      db,
      cipher,
      { name: 'seeing' },
      { vision: null, voiceAnswers: false, voice: null },
    );
    expect(reset).toMatchObject({ vision: null, voiceAnswers: false, voice: null });

    await expect(createAiConfig(db, cipher, input('bad', { voice: 'two words' }))).rejects.toThrow(
      /voice: a voice name/,
    );
    await expect(updateAiConfig(db, cipher, { name: 'seeing' }, { voice: '' })).rejects.toThrow(/voice:/);
    expect((await getAiConfigByName(db, 'seeing'))?.voice).toBeNull();
  });

  it('update with activate makes it the active one', async () => {
    await createAiConfig(db, cipher, input('a'), { activate: true });
    await createAiConfig(db, cipher, input('b'));
    const b = await updateAiConfig(
      db,
      cipher,
      { name: 'b' },
      { model: 'openai/gpt-4.1' },
      { activate: true },
    );
    expect(b.isActive).toBe(true);
    expect(await activeNames()).toEqual(['b']);
  });

  it('deletes by name or id', async () => {
    const row = await createAiConfig(db, cipher, input('main'));
    expect(await deleteAiConfig(db, { name: 'nope' })).toBe(false);
    expect(await deleteAiConfig(db, { id: 'bad id' })).toBe(false);
    expect(await deleteAiConfig(db, { id: row.id })).toBe(true);
    expect(await listAiConfigs(db)).toEqual([]);
  });

  it('re-encrypts every key with the new key in one go, and refuses when an old key is unknown', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const old = createFieldCipher(oldKey);
    await createAiConfig(db, old, input('a'));
    await createAiConfig(db, old, input('b'));
    await createAiConfig(db, null, {
      name: 'local',
      provider: 'openai-compatible',
      model: 'm',
      baseUrl: 'http://x/v1',
    });

    await expect(reencryptAiConfigKeys(db, createFieldCipher(newKey))).rejects.toThrow(
      /AI configuration "a"/,
    );
    expect(
      (await listAiConfigs(db))
        .filter((r) => r.apiKeyEncrypted)
        .every((r) => old.keyIdOf(r.apiKeyEncrypted!) === old.keyId),
    ).toBe(true);

    const rotating = createFieldCipher(newKey, [oldKey]);
    expect(await reencryptAiConfigKeys(db, rotating)).toEqual({ total: 3, rotated: 2, alreadyCurrent: 0 });
    const onlyNew = createFieldCipher(newKey);
    for (const row of await listAiConfigs(db)) {
      if (row.apiKeyEncrypted) expect(onlyNew.decrypt(row.apiKeyEncrypted)).toBe(KEY);
    }
    expect(await reencryptAiConfigKeys(db, rotating)).toEqual({ total: 3, rotated: 0, alreadyCurrent: 2 });
  });
});
