import { describe, expect, it } from 'vitest';
import { formatWait } from '../../../src/admin/views/wait-time.js';

describe('formatWait', () => {
  it.each<[number, string]>([
    [-5_000, '0 s'],
    [45_000, '45 s'],
    [60_000, '1 min'],
    [12 * 60_000 + 59_000, '12 min'],
    [60 * 60_000, '1 h'],
    [125 * 60_000, '2 h 5 min'],
    [24 * 3_600_000, '1 d'],
    [52 * 3_600_000 + 30 * 60_000, '2 d 4 h'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatWait(ms)).toBe(text);
  });
});
