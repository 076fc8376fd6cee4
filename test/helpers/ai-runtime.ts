/**
 * The setup the AI runtime tests share: their own database, a fake LLM, a field cipher, and the environment's
 * AI settings pointing at that fake. Registers its own hooks (ai_configurations emptied and the fake's record
 * cleared before each test), so a test file only reads the fixture's fields.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { AiSettings } from '../../src/config/load.js';
import { createFieldCipher, type FieldCipher } from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface AiRuntimeFixture {
  readonly db: TestDatabase['database']['db'];
  readonly llm: FakeLlm;
  /** The environment's AI settings (AI_* variables), answered by the fake LLM. */
  readonly env: AiSettings;
  readonly cipher: FieldCipher;
}

export function useAiRuntimeFixture(): AiRuntimeFixture {
  let testDb: TestDatabase | undefined;
  let llm: FakeLlm | undefined;
  let env: AiSettings | undefined;
  const cipher = createFieldCipher(randomBytes(32));

  beforeAll(async () => {
    [testDb, llm] = await Promise.all([createTestDatabase(), startFakeLlm()]);
    env = {
      provider: 'openai',
      apiKey: 'sk-env',
      model: 'env-model',
      baseUrl: llm.openaiBaseUrl,
      timeoutMs: 5000,
      temperature: 0.7,
      maxTokens: 512,
      systemPrompt: 'env prompt',
    };
  });
  afterAll(async () => {
    await Promise.all([testDb?.close(), llm?.close()]);
  });
  beforeEach(async () => {
    llm?.reset();
    await testDb?.database.db.execute('delete from ai_configurations');
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('AI runtime fixture used outside a test (before beforeAll ran)');
    return value;
  };
  return {
    get db() {
      return ready(testDb).database.db;
    },
    get llm() {
      return ready(llm);
    },
    get env() {
      return ready(env);
    },
    cipher,
  };
}
