import { describe, expect, it } from 'vitest';
import type { AiConfigRow } from '../../src/db/ai-configs.js';
import { aiConfigAuditDetails } from '../../src/inbox/ai-config-audit.js';

const base: AiConfigRow = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'main',
  provider: 'openai',
  apiKeyEncrypted: 'v1:aa:bb:cc:dd',
  model: 'gpt',
  baseUrl: null,
  systemPrompt: null,
  temperature: null,
  maxTokens: null,
  vision: null,
  voiceAnswers: false,
  voice: null,
  inputPriceUsd: null,
  outputPriceUsd: null,
  isActive: false,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

describe('aiConfigAuditDetails', () => {
  it('names the configuration and whether it has a key, never the stored key', () => {
    const details = aiConfigAuditDetails(base);
    expect(details).toEqual({
      name: 'main',
      provider: 'openai',
      model: 'gpt',
      hasKey: true,
      vision: null,
      voiceAnswers: false,
    });
    expect(JSON.stringify(details)).not.toContain('v1:aa');
  });

  it.each([
    [{ model: 'other' }, { changed: ['model'] }],
    [{ systemPrompt: 'Be brief.' }, { changed: ['systemPrompt'] }],
    [{ name: 'renamed' }, { changed: ['name'], previousName: 'main' }],
    [{ apiKeyEncrypted: 'v1:ee:ff:gg:hh' }, { changed: ['apiKey'], apiKey: 'replaced' }],
    [{ apiKeyEncrypted: null }, { changed: ['apiKey'], apiKey: 'removed', hasKey: false }],
    [{ vision: true }, { changed: ['vision'], vision: true }],
    [
      { voiceAnswers: true, voice: 'nova' },
      { changed: ['voiceAnswers', 'voice'], voiceAnswers: true },
    ],
    [{ updatedAt: new Date(1) }, { changed: [] }],
  ] as Array<[Partial<AiConfigRow>, Record<string, unknown>]>)(
    'an update of %o says %o',
    (patch, expected) => {
      const details = aiConfigAuditDetails({ ...base, ...patch }, base);
      expect(details).toMatchObject(expected);
      expect(JSON.stringify(details)).not.toContain('v1:');
      expect(JSON.stringify(details)).not.toContain('Be brief');
    },
  );

  it('says "added" when a configuration without a key gets one', () => {
    const keyless = { ...base, apiKeyEncrypted: null };
    expect(aiConfigAuditDetails(base, keyless)).toMatchObject({ apiKey: 'added', changed: ['apiKey'] });
  });
});
