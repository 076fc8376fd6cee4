import { describe, expect, it } from 'vitest';
import { loadConfig, validate } from '../../src/config/load.js';

describe('AI_VISION and AI_FALLBACK_VISION', () => {
  it('are unset by default: the table of well-known vision models decides', () => {
    const config = loadConfig({ AI_FALLBACK_MODEL: 'openai/gpt-4o-mini' });
    expect(config.ai.vision).toBeUndefined();
    expect(config.aiFallback?.vision).toBeUndefined();
  });

  it('say whether AI_MODEL and AI_FALLBACK_MODEL see images, each on its own', () => {
    const config = loadConfig({
      AI_VISION: 'true',
      AI_FALLBACK_MODEL: 'openai/gpt-4o-mini',
      AI_FALLBACK_VISION: 'false',
    });
    expect(config.ai.vision).toBe(true);
    expect(config.aiFallback?.vision).toBe(false);
    const onlyMain = loadConfig({ AI_VISION: 'no', AI_FALLBACK_MODEL: 'openai/gpt-4o-mini' });
    expect(onlyMain.ai.vision).toBe(false);
    expect(onlyMain.aiFallback?.vision).toBeUndefined();
  });

  it('treat an empty value as unset and refuse anything but a boolean', () => {
    expect(loadConfig({ AI_VISION: '' }).ai.vision).toBeUndefined();
    const result = validate({ AI_VISION: 'sometimes' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContain('AI_VISION: must be true or false');
  });
});
