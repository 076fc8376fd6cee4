/**
 * Whether the answering model sees images (issue #15), as the runtime decides it: an AI configuration's `vision`
 * when set, AI_VISION / AI_FALLBACK_VISION for the environment's models, else the table of well-known vision
 * models; and a configuration's voice-answer settings carried along. Real PostgreSQL rows, real adapters.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createAiRuntime } from '../../src/ai/runtime.js';
import type { AiSettings } from '../../src/config/load.js';
import { createAiConfig, updateAiConfig, type AiConfigInput } from '../../src/db/ai-configs.js';
import { useAiRuntimeFixture } from '../helpers/ai-runtime.js';

const fixture = useAiRuntimeFixture();
const { cipher } = fixture;

const db = () => fixture.db;
const runtime = (envSettings: AiSettings, fallbackSettings?: AiSettings) =>
  createAiRuntime({
    db: db(),
    envSettings,
    fallbackSettings,
    decrypt: cipher.decrypt,
    log: pino({ level: 'silent' }),
    refreshMs: 0,
  });
const config = (name: string, model: string, extra: Partial<AiConfigInput> = {}) =>
  createAiConfig(
    db(),
    cipher,
    { name, provider: 'openai-compatible', model, baseUrl: fixture.llm.openaiBaseUrl, ...extra },
    { activate: true },
  );

describe('the runtime decides vision', () => {
  it('for the environment: AI_VISION when set, else the table', async () => {
    expect((await runtime(fixture.env).current()).vision).toBe(false);
    expect((await runtime({ ...fixture.env, model: 'gpt-4o-mini' }).current()).vision).toBe(true);
    expect((await runtime({ ...fixture.env, vision: true }).current()).vision).toBe(true);
    expect((await runtime({ ...fixture.env, model: 'gpt-4o-mini', vision: false }).current()).vision).toBe(
      false,
    );
  });

  it("for a configuration: its own vision when set, else the table for its model (AI_VISION is AI_MODEL's)", async () => {
    const ai = runtime({ ...fixture.env, vision: true });
    await config('main', 'llama3.1:8b');
    expect(await ai.current()).toMatchObject({ configName: 'main', vision: false });

    await updateAiConfig(db(), cipher, { name: 'main' }, { vision: true });
    expect((await ai.current()).vision).toBe(true);

    await updateAiConfig(db(), cipher, { name: 'main' }, { vision: null, model: 'qwen2.5-vl-7b-instruct' });
    expect((await ai.current()).vision).toBe(true);

    await updateAiConfig(db(), cipher, { name: 'main' }, { vision: false });
    const blind = await ai.current();
    expect(blind.vision).toBe(false);
    // The model still answers as before: vision changes what is sent, not who answers.
    expect(blind.model.model).toBe('qwen2.5-vl-7b-instruct');
  });

  it("for a business number's configuration, the same way", async () => {
    const row = await createAiConfig(db(), cipher, {
      name: 'persona',
      provider: 'openai-compatible',
      model: 'mistral-small',
      baseUrl: fixture.llm.openaiBaseUrl,
      vision: true,
    });
    expect((await runtime(fixture.env).forConfig(row.id)).vision).toBe(true);
  });

  it('for the fallback: AI_FALLBACK_VISION when set, else the table, whichever configuration is active', async () => {
    const fallback = { ...fixture.env, model: 'gpt-4o-mini' };
    expect((await runtime(fixture.env, fallback).current()).fallbackVision).toBe(true);
    expect((await runtime(fixture.env, { ...fallback, vision: false }).current()).fallbackVision).toBe(false);
    expect((await runtime(fixture.env, { ...fixture.env, vision: true }).current()).fallbackVision).toBe(
      true,
    );
    expect((await runtime(fixture.env).current()).fallbackVision).toBe(false);

    await config('main', 'llama3.1:8b');
    expect(await runtime(fixture.env, fallback).current()).toMatchObject({
      configName: 'main',
      vision: false,
      fallbackVision: true,
    });
  });

  it("carries a configuration's voice answers and voice; the environment answers in text", async () => {
    expect(await runtime(fixture.env).current()).toMatchObject({ voiceAnswers: false });
    expect((await runtime(fixture.env).current()).voice).toBeUndefined();
    await config('speaking', 'gpt-4o-mini', { voiceAnswers: true, voice: 'nova' });
    expect(await runtime(fixture.env).current()).toMatchObject({ voiceAnswers: true, voice: 'nova' });
  });
});
