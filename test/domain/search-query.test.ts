import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_TERMS, prefixTsQuery } from '../../src/domain/search-query.js';

describe('prefixTsQuery', () => {
  it.each<[string, string | null]>([
    ['umbrella', 'umbrella:*'],
    ['Blue  UMBRELLA', 'blue:* & umbrella:*'],
    ['olá, São Paulo!', 'olá:* & são:* & paulo:*'],
    ['order 12345', 'order:* & 12345:*'],
    ["x') | !(:* & y", 'x & y'],
    ['my order no 42', 'my & order:* & no & 42'],
    ['dup dup', 'dup:*'],
    ['   ', null],
    ['+-*/!', null],
  ])('%j → %j', (input, expected) => {
    expect(prefixTsQuery(input)).toBe(expected);
  });

  it(`searches at most ${MAX_SEARCH_TERMS} words`, () => {
    const query = prefixTsQuery('a b c d e f g h i j k');
    expect(query?.split(' & ')).toHaveLength(MAX_SEARCH_TERMS);
  });
});
