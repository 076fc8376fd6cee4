import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createAiRuntime, settingsFromAiConfig } from '../../src/ai/runtime.js';
import {
  activateAiConfig,
  createAiConfig,
  deactivateAiConfigs,
  updateAiConfig,
} from '../../src/db/ai-configs.js';
import { createFieldCipher } from '../../src/security/field-encryption.js';
import { useAiRuntimeFixture } from '../helpers/ai-runtime.js';

const fixture = useAiRuntimeFixture();
const { cipher } = fixture;

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string; config?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const db = () => fixture.db;
const ask = async (runtime: ReturnType<typeof createAiRuntime>) => {
  const choice = await runtime.current();
  await choice.model.complete({ messages: [{ role: 'user', content: 'hi' }] });
  return fixture.llm.requests.at(-1)!;
};

describe('AI runtime', () => {
  it('uses the environment settings while no configuration is active', async () => {
    const runtime = createAiRuntime({
      db: db(),
      envSettings: fixture.env,
      decrypt: cipher.decrypt,
      log: pino({ level: 'silent' }),
      refreshMs: 0,
    });
    const choice = await runtime.current();
    expect(choice).toMatchObject({
      source: 'environment',
      configName: null,
      problem: null,
      systemPrompt: 'env prompt',
      maxTokens: 512,
    });
    expect((await ask(runtime)).model).toBe('env-model');
  });

  it('switches to an activated configuration, keeps one model while it is unchanged, and rebuilds on change', async () => {
    const runtime = createAiRuntime({
      db: db(),
      envSettings: fixture.env,
      decrypt: cipher.decrypt,
      log: pino({ level: 'silent' }),
      refreshMs: 0,
    });
    await createAiConfig(
      db(),
      cipher,
      {
        name: 'db',
        provider: 'openai-compatible',
        apiKey: 'sk-db-key',
        model: 'db-model',
        baseUrl: fixture.llm.openaiBaseUrl,
        systemPrompt: 'db prompt',
      },
      { activate: true },
    );
    const first = await runtime.current();
    expect(first).toMatchObject({
      source: 'database',
      configName: 'db',
      systemPrompt: 'db prompt',
      temperature: 0.7,
      maxTokens: 512,
    });
    const request = await ask(runtime);
    expect(request.model).toBe('db-model');
    expect(request.headers.authorization).toBe('Bearer sk-db-key');
    expect((await runtime.current()).model).toBe(first.model);

    await updateAiConfig(db(), cipher, { name: 'db' }, { model: 'db-model-2' });
    expect((await ask(runtime)).model).toBe('db-model-2');

    await deactivateAiConfigs(db());
    expect((await runtime.current()).source).toBe('environment');
  });

  it('serves the cached choice within refreshMs, and the new row once it is re-read', async () => {
    const runtime = createAiRuntime({
      db: db(),
      envSettings: fixture.env,
      decrypt: cipher.decrypt,
      log: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    expect((await runtime.current()).source).toBe('environment');
    await createAiConfig(
      db(),
      cipher,
      { name: 'later', provider: 'openai', apiKey: 'sk-x', model: 'm', baseUrl: fixture.llm.openaiBaseUrl },
      { activate: true },
    );
    expect((await runtime.current()).source).toBe('environment');
    expect((await runtime.refresh()).configName).toBe('later');
    expect((await runtime.current()).configName).toBe('later');
  });

  it('hands concurrent callers the same model instance', async () => {
    await createAiConfig(
      db(),
      cipher,
      { name: 'shared', provider: 'openai', apiKey: 'sk-x', model: 'm', baseUrl: fixture.llm.openaiBaseUrl },
      { activate: true },
    );
    const runtime = createAiRuntime({
      db: db(),
      envSettings: fixture.env,
      decrypt: cipher.decrypt,
      log: pino({ level: 'silent' }),
      refreshMs: 60_000,
    });
    const choices = await Promise.all(Array.from({ length: 20 }, () => runtime.current()));
    expect(new Set(choices.map((c) => c.model)).size).toBe(1);
  });

  it('falls back to the environment, logging once, when the active key cannot be decrypted', async () => {
    const { log, lines } = capturingLogger();
    const otherKey = createFieldCipher(randomBytes(32));
    const runtime = createAiRuntime({
      db: db(),
      envSettings: fixture.env,
      decrypt: otherKey.decrypt,
      log,
      refreshMs: 0,
    });
    await createAiConfig(db(), cipher, {
      name: 'broken',
      provider: 'openai',
      apiKey: 'sk-secret-db-key',
      model: 'm',
      baseUrl: fixture.llm.openaiBaseUrl,
    });
    await activateAiConfig(db(), { name: 'broken' });
    for (let i = 0; i < 3; i += 1) {
      const choice = await runtime.current();
      expect(choice).toMatchObject({
        source: 'environment',
        problem: expect.stringMatching(/"broken".*cannot be decrypted/) as unknown,
      });
    }
    expect((await ask(runtime)).model).toBe('env-model');
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.config).toBe('broken');
    expect(JSON.stringify(lines)).not.toContain('sk-secret-db-key');
  });

  it('fills what a configuration leaves empty from the environment', async () => {
    const row = await createAiConfig(db(), cipher, {
      name: 'sparse',
      provider: 'anthropic',
      apiKey: 'sk-ant',
      model: 'claude-x',
      temperature: 0,
    });
    expect(settingsFromAiConfig(row, fixture.env, cipher.decrypt)).toEqual({
      provider: 'anthropic',
      apiKey: 'sk-ant',
      model: 'claude-x',
      baseUrl: undefined,
      timeoutMs: 5000,
      temperature: 0,
      maxTokens: 512,
      systemPrompt: 'env prompt',
    });
  });
});
