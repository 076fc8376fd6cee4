import { describe, expect, it } from 'vitest';
import {
  costMicros,
  dayIn,
  DEFAULT_PRICES,
  formatUsd,
  parsePriceTable,
  priceFor,
} from '../../src/domain/prices.js';

describe('prices', () => {
  it('price a model by its configured name: its own price, the exact name, then the last part of vendor/model', () => {
    const table = { ...DEFAULT_PRICES, 'openai/gpt-4o-mini': { input: 9, output: 9 } };
    expect(priceFor('openai/gpt-4o-mini', table)).toEqual({ input: 9, output: 9 });
    expect(priceFor('openrouter-vendor/gpt-4o', table)).toEqual({ input: 2.5, output: 10 });
    expect(priceFor('gpt-4o', table, { input: 1, output: 2 })).toEqual({ input: 1, output: 2 });
    expect(priceFor('my-local-llama', table)).toBeNull();
    // A name like a built-in property is not a price.
    expect(priceFor('constructor', table)).toBeNull();
  });

  it('count money in whole micro-dollars: tokens × USD per million tokens', () => {
    expect(costMicros({ inputTokens: 1_000_000, outputTokens: 0 }, { input: 1, output: 0 })).toBe(1_000_000);
    expect(costMicros({ inputTokens: 1200, outputTokens: 300 }, { input: 0.15, output: 0.6 })).toBe(360);
    // 10 tokens at $0.15/M is 1.5 micro-dollars: rounded, at most half a micro-dollar off.
    expect(costMicros({ inputTokens: 10, outputTokens: 0 }, { input: 0.15, output: 0.6 })).toBe(2);
    expect(costMicros(null, { input: 3, output: 15 })).toBe(0);
  });

  it('tell the day in a time zone, and show small amounts readably', () => {
    const at = new Date('2026-03-01T02:30:00Z');
    expect(dayIn(at, 'UTC')).toBe('2026-03-01');
    expect(dayIn(at, 'America/New_York')).toBe('2026-02-28');
    expect(dayIn(at, 'Asia/Tokyo')).toBe('2026-03-01');
    expect(formatUsd(360)).toBe('$0.00036');
    expect(formatUsd(12_345_678)).toBe('$12.35');
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(null)).toBe('—');
  });

  it('parse a price file into a table, or every problem', () => {
    expect(parsePriceTable('{"m": {"input": 0.15, "output": 0.6}}')).toEqual({
      table: { m: { input: 0.15, output: 0.6 } },
    });
    expect(parsePriceTable('{"m": {"input": 1}}')).toEqual({
      problems: ['"m".output: must be a number ≥ 0 (US dollars per million tokens)'],
    });
    expect(parsePriceTable('nope')).toMatchObject({ problems: [expect.stringContaining('not valid JSON')] });
  });
});
