/**
 * A business number's persona: `forConfig(id)` answers with that AI configuration (prompt, model, temperature),
 * whether or not it is the active one, follows its edits, and falls back to the active choice when the row is
 * gone or cannot be used (logged once).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createAiRuntime } from '../../src/ai/runtime.js';
import { createAiConfig, deleteAiConfig, updateAiConfig } from '../../src/db/ai-configs.js';
import { createFieldCipher } from '../../src/security/field-encryption.js';
import { useAiRuntimeFixture } from '../helpers/ai-runtime.js';

const fixture = useAiRuntimeFixture();
const { cipher } = fixture;

const db = () => fixture.db;

function runtimeWith(decrypt = cipher.decrypt) {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  const runtime = createAiRuntime({
    db: db(),
    envSettings: fixture.env,
    decrypt,
    log: pino({ level: 'info' }, stream),
    refreshMs: 0,
  });
  return { runtime, lines };
}

const persona = (name: string, extra: Record<string, unknown> = {}) =>
  createAiConfig(db(), cipher, {
    name,
    provider: 'openai-compatible',
    apiKey: `sk-${name}`,
    model: `${name}-model`,
    baseUrl: fixture.llm.openaiBaseUrl,
    systemPrompt: `You are ${name}.`,
    temperature: 0.1,
    ...extra,
  });

describe('AI runtime: a business number’s configuration', () => {
  it('answers with the named configuration beside the active one, each with its own prompt and model', async () => {
    const { runtime } = runtimeWith();
    const sales = await persona('sales');
    await createAiConfig(
      db(),
      cipher,
      {
        name: 'main',
        provider: 'openai',
        apiKey: 'sk-main',
        model: 'main-model',
        baseUrl: fixture.llm.openaiBaseUrl,
      },
      { activate: true },
    );
    const choice = await runtime.forConfig(sales.id);
    expect(choice).toMatchObject({
      source: 'database',
      configName: 'sales',
      systemPrompt: 'You are sales.',
      temperature: 0.1,
    });
    await choice.model.complete({ messages: [{ role: 'user', content: 'hi' }] });
    expect(fixture.llm.requests.at(-1)?.model).toBe('sales-model');
    expect((await runtime.current()).configName).toBe('main');

    await updateAiConfig(db(), cipher, { id: sales.id }, { systemPrompt: 'You are sales, v2.' });
    expect((await runtime.forConfig(sales.id)).systemPrompt).toBe('You are sales, v2.');
  });

  it('falls back to the active choice when the configuration is gone', async () => {
    const { runtime } = runtimeWith();
    const gone = await persona('gone');
    expect((await runtime.forConfig(gone.id)).configName).toBe('gone');
    await deleteAiConfig(db(), { id: gone.id });
    expect(await runtime.forConfig(gone.id)).toMatchObject({
      source: 'environment',
      systemPrompt: 'env prompt',
    });
  });

  it('falls back to the active choice, logging once, when its key cannot be decrypted', async () => {
    const { runtime, lines } = runtimeWith(createFieldCipher(randomBytes(32)).decrypt);
    const broken = await persona('broken');
    for (let i = 0; i < 3; i += 1) {
      expect(await runtime.forConfig(broken.id)).toMatchObject({
        source: 'environment',
        problem: expect.stringMatching(/"broken".*cannot be decrypted/) as unknown,
      });
    }
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
  });
});
