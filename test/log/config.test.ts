import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';

describe('LOG_LEVELS and METRICS_* settings', () => {
  it('reads per-area levels from LOG_LEVELS, tolerant of spaces and case', () => {
    const result = validate({ LOG_LEVELS: 'http=warn, AI=Debug ,queue=silent' });
    expect(result.ok && result.config.log.areaLevels).toEqual({ http: 'warn', ai: 'debug', queue: 'silent' });
  });

  it('has no per-area levels, metrics on and open by default', () => {
    const result = validate({});
    expect(result.ok && result.config.log.areaLevels).toEqual({});
    expect(result.ok && result.config.metrics).toEqual({
      enabled: true,
      token: undefined,
      port: undefined,
      public: true,
    });
  });

  it('refuses a LOG_LEVELS entry that is not area=level, naming it', () => {
    const result = validate({ LOG_LEVELS: 'http=loud,ai' });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.some((p) => p.startsWith('LOG_LEVELS') && p.includes('"http=loud"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('LOG_LEVELS') && p.includes('"ai"'))).toBe(true);
  });

  it('reads METRICS_ENABLED, METRICS_TOKEN and METRICS_PORT', () => {
    const result = validate({ METRICS_ENABLED: 'false', METRICS_TOKEN: 'scrape-me', METRICS_PORT: '9464' });
    expect(result.ok && result.config.metrics).toEqual({
      enabled: false,
      token: 'scrape-me',
      port: 9464,
      public: false,
    });
  });
});
