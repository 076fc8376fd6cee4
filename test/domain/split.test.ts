import { describe, expect, it } from 'vitest';
import { splitReply } from '../../src/domain/split.js';

const sentence = (n: number) => `This is sentence number ${n}, which carries a little text.`;

describe('splitReply', () => {
  it('keeps a short reply whole', () => {
    expect(splitReply('  Hello there  ', 1600)).toEqual(['Hello there']);
  });

  it('returns nothing for an empty reply', () => {
    expect(splitReply('   ', 1600)).toEqual([]);
  });

  it('splits a 4000-character answer into ordered parts of at most 1600 that rebuild the text', () => {
    const text = Array.from({ length: 80 }, (_, i) => sentence(i)).join(' ');
    expect(text.length).toBeGreaterThan(4000);
    const parts = splitReply(text, 1600);
    expect(parts.length).toBe(Math.ceil(text.length / 1600));
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(1600);
    expect(parts.join(' ')).toBe(text);
    for (const part of parts) expect(part.endsWith('.')).toBe(true);
  });

  it('prefers a paragraph break over a later sentence end', () => {
    const first = 'a'.repeat(1000) + '.';
    const second = 'Second paragraph. ' + 'b'.repeat(700) + '. More words here.';
    const parts = splitReply(`${first}\n\n${second}`, 1600);
    expect(parts).toEqual([first, second]);
  });

  it('falls back to a sentence end, then to a word boundary', () => {
    const words = Array.from({ length: 400 }, () => 'word').join(' ');
    const parts = splitReply(words, 100);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(100);
      expect(part).toMatch(/^word( word)*$/);
    }
    expect(parts.join(' ')).toBe(words);
  });

  it('ignores an early paragraph break that would make a tiny first part', () => {
    const text = 'Hi!\n\n' + Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const [first] = splitReply(text, 1600);
    expect(first!.length).toBeGreaterThan(800);
  });

  it('hard-cuts a text without spaces and never splits an emoji', () => {
    const text = '😀'.repeat(1000); // 2000 UTF-16 units
    const parts = splitReply(text, 1599);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(1599);
      expect(part.codePointAt(part.length - 2)).toBe(0x1f600);
    }
  });

  it('rejects a nonsensical limit', () => {
    expect(() => splitReply('x', 0)).toThrow(RangeError);
  });
});
