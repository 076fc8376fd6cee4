import { describe, expect, it } from 'vitest';
import type { Content } from '../../src/domain/content.js';
import { userText, withUserTextCut } from '../../src/domain/user-text.js';

const image = { kind: 'image' as const, contentType: 'image/jpeg', reference: 'https://x/1' };

describe('userText', () => {
  it.each<[Content, string]>([
    [{ type: 'text', text: 'hello' }, 'hello'],
    [{ type: 'media', items: [image], caption: 'look' }, 'look'],
    [{ type: 'media', items: [image] }, ''],
    [{ type: 'location', latitude: 1, longitude: 2, name: 'a very long place name' }, ''],
    [{ type: 'interactive_reply', kind: 'button', id: 'yes', title: 'Yes' }, ''],
  ])('%o → %s', (content, text) => {
    expect(userText(content)).toBe(text);
  });
});

describe('withUserTextCut', () => {
  it('cuts a text and a caption by code points, and leaves other kinds alone', () => {
    expect(withUserTextCut({ type: 'text', text: '😀😀😀' }, 2)).toEqual({ type: 'text', text: '😀😀' });
    expect(withUserTextCut({ type: 'media', items: [image], caption: 'abcdef' }, 3)).toEqual({
      type: 'media',
      items: [image],
      caption: 'abc',
    });
    const location: Content = { type: 'location', latitude: 1, longitude: 2 };
    expect(withUserTextCut(location, 0)).toBe(location);
  });
});
