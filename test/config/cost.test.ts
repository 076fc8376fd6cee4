/**
 * Cost settings from the environment: the built-in prices, MODEL_PRICES_FILE over them, a broken or unreadable
 * file (and a bad TIMEZONE) stopping the start with a clear problem, the caps in micro-dollars and the cheaper
 * model of SPEND_CAP_FALLBACK_MODEL on the environment's provider.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validate } from '../../src/config/load.js';
import { priceFor } from '../../src/domain/prices.js';

const dir = mkdtempSync(join(tmpdir(), 'cost-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(env: Record<string, string>): string[] {
  const result = validate(env);
  return result.ok ? [] : result.problems;
}

describe('cost settings', () => {
  it('default to the built-in prices, UTC and no caps', () => {
    const { cost, spendCapFallback } = loadConfig({});
    expect(cost.timezone).toBe('UTC');
    expect(cost.userDailyCapMicros).toBe(0);
    expect(cost.dailyCapMicros).toBe(0);
    expect(priceFor('gpt-4o-mini', cost.prices)).toEqual({ input: 0.15, output: 0.6 });
    expect(spendCapFallback).toBeNull();
  });

  it('take MODEL_PRICES_FILE over the defaults, keyed by the model name as configured', () => {
    const path = file(
      'prices.json',
      JSON.stringify({
        'gpt-4o-mini': { input: 0.1, output: 0.5 },
        'acme/house-model': { input: 2, output: 3 },
      }),
    );
    const { cost } = loadConfig({ MODEL_PRICES_FILE: path });
    expect(priceFor('gpt-4o-mini', cost.prices)).toEqual({ input: 0.1, output: 0.5 });
    expect(priceFor('openai/gpt-4o-mini', cost.prices)).toEqual({ input: 0.1, output: 0.5 });
    expect(priceFor('acme/house-model', cost.prices)).toEqual({ input: 2, output: 3 });
    expect(priceFor('claude-haiku-4-5', cost.prices)).toEqual({ input: 1, output: 5 });
    expect(cost.pricesSource).toContain('2 model(s)');
  });

  it('stop the start on a broken price file, naming the file and every problem', () => {
    const notJson = file('broken.json', '{"gpt-4o-mini": {"input": 0.15,');
    expect(() => loadConfig({ MODEL_PRICES_FILE: notJson })).toThrow(ConfigError);
    expect(problemsOf({ MODEL_PRICES_FILE: notJson })).toEqual([
      expect.stringMatching(/^MODEL_PRICES_FILE: .*broken\.json: not valid JSON/),
    ]);

    const wrong = file(
      'wrong.json',
      JSON.stringify({ a: { input: -1, output: 1 }, b: { input: '0.1', output: 1, extra: true }, c: 5 }),
    );
    const problems = problemsOf({ MODEL_PRICES_FILE: wrong });
    expect(problems).toEqual([
      expect.stringContaining('"a".input: must be a number ≥ 0'),
      expect.stringContaining('"b": unknown field(s) extra'),
      expect.stringContaining('"b".input: must be a number ≥ 0'),
      expect.stringContaining('"c": must be an object'),
    ]);
    expect(problemsOf({ MODEL_PRICES_FILE: file('array.json', '[]') })).toEqual([
      expect.stringContaining('must be a JSON object'),
    ]);
    expect(problemsOf({ MODEL_PRICES_FILE: join(dir, 'missing.json') })).toEqual([
      expect.stringMatching(/MODEL_PRICES_FILE: .*missing\.json cannot be read \(ENOENT\)/),
    ]);
  });

  it('read the caps in dollars, the time zone, and the cheaper model on the environment provider', () => {
    const config = loadConfig({
      TIMEZONE: 'America/Sao_Paulo',
      SPEND_CAP_USER_DAILY_USD: '0.25',
      SPEND_CAP_DAILY_USD: '40',
      OPENAI_API_KEY: 'sk-test',
      AI_MODEL: 'openai/gpt-4o',
      SPEND_CAP_FALLBACK_MODEL: 'openai/gpt-4o-mini',
    });
    expect(config.cost).toMatchObject({
      timezone: 'America/Sao_Paulo',
      userDailyCapMicros: 250_000,
      dailyCapMicros: 40_000_000,
    });
    expect(config.spendCapFallback).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(problemsOf({ TIMEZONE: 'Mars/Olympus' })).toEqual([
      expect.stringContaining('TIMEZONE: "Mars/Olympus" is not an IANA time zone'),
    ]);
    expect(problemsOf({ SPEND_CAP_USER_DAILY_USD: '-1' })).toEqual([
      expect.stringContaining('SPEND_CAP_USER_DAILY_USD'),
    ]);
  });
});
