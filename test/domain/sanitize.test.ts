import { describe, it, expect } from 'vitest';
import {
  codePointLength,
  isChannelAddress,
  isE164,
  recipientAddress,
  stripControlChars,
  truncate,
} from '../../src/domain/sanitize.js';

describe('stripControlChars', () => {
  const cases: Array<[string, string, string]> = [
    ['plain text is unchanged', 'Hello, world!', 'Hello, world!'],
    ['keeps newlines and tabs', 'a\nb\tc', 'a\nb\tc'],
    ['normalises CRLF to LF', 'line 1\r\nline 2\r\n', 'line 1\nline 2\n'],
    ['turns a lone CR into LF', 'old\rmac', 'old\nmac'],
    ['removes NUL and bell', 'a\u0000b\u0007c', 'abc'],
    ['removes vertical tab, form feed and escape', 'a\u000Bb\u000Cc\u001B[31md', 'abc[31md'],
    ['removes DEL', 'a\u007Fb', 'ab'],
    ['removes C1 controls', 'a\u0080b\u0085c\u009Fd', 'abcd'],
    ['keeps emoji, including ZWJ sequences', 'hi 👋🏽 👨‍👩‍👧', 'hi 👋🏽 👨‍👩‍👧'],
    ['keeps non-Latin scripts and accents', 'Olá, ¿qué tal? مرحبا 你好', 'Olá, ¿qué tal? مرحبا 你好'],
    ['keeps Latin-1 printable characters right after C1', '\u00A0\u00E9', '\u00A0\u00E9'],
    ['empty stays empty', '', ''],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(stripControlChars(input)).toBe(expected);
  });
});

describe('isE164', () => {
  const cases: Array<[string, boolean]> = [
    ['+14155550100', true],
    ['+447911123456', true],
    ['+1234567', true], // 7 digits, the shortest allowed
    ['+123456789012345', true], // 15 digits, the longest allowed
    ['+123456', false], // 6 digits
    ['+1234567890123456', false], // 16 digits
    ['+04155550100', false], // leading zero
    ['14155550100', false], // no plus
    ['+1 415 555 0100', false],
    ['+1-415-555-0100', false],
    ['+1415555010a', false],
    ['', false],
    ['whatsapp:+14155550100', false],
  ];
  it.each(cases)('%s → %s', (input, expected) => {
    expect(isE164(input)).toBe(expected);
  });
});

describe('isChannelAddress', () => {
  const cases: Array<[string, boolean]> = [
    ['whatsapp:+14155550100', true],
    ['whatsapp:US.13491208655302741918', true], // business-scoped id of a user hiding their number
    ['whatsapp:CO.899759302823042', true], // BSUID-only sender (wire facts §1.9)
    ['whatsapp:US.ENT.a1B2c3', true], // parent BSUID
    [`whatsapp:BR.${'a'.repeat(128)}`, true],
    [`whatsapp:BR.${'a'.repeat(129)}`, false],
    ['whatsapp:+CO.899759302823042', false], // a scoped id never takes a +
    ['whatsapp:co.899759302823042', false],
    ['whatsapp:CO.', false],
    ['whatsapp:CO.abc_DEF-123', false],
    ['whatsapp:abc', false],
    ['whatsapp:', false],
    ['whatsapp:+0123456789', false], // looks like a phone number, so it must be a valid one
    ['whatsapp:+1234', false],
    ['whatsapp:has space', false],
    ['whatsapp:a/b', false],
    ['whatsapp:a\nb', false],
    ['whatsapp:a:b', false],
    ['+14155550100', false], // no channel prefix
    ['sms:+14155550100', false],
    ['WhatsApp:+14155550100', false],
    ['', false],
  ];
  it.each(cases)('%s → %s', (input, expected) => {
    expect(isChannelAddress(input)).toBe(expected);
  });
});

describe('codePointLength and truncate', () => {
  it('counts an emoji as one character', () => {
    expect(codePointLength('a👋b')).toBe(3);
    expect('a👋b'.length).toBe(4);
  });

  const cases: Array<[string, string, number, string]> = [
    ['short text is unchanged', 'hello', 10, 'hello'],
    ['exact length is unchanged', 'hello', 5, 'hello'],
    ['long text is cut', 'hello world', 5, 'hello'],
    ['never splits a surrogate pair', 'ab👋👋', 3, 'ab👋'],
    ['zero keeps nothing', 'abc', 0, ''],
  ];
  it.each(cases)('%s', (_name, input, max, expected) => {
    expect(truncate(input, max)).toBe(expected);
    expect(codePointLength(truncate(input, max))).toBeLessThanOrEqual(max);
  });
});

describe('recipientAddress', () => {
  const cases: Array<[string, string | null]> = [
    ['whatsapp:+14155550100', 'whatsapp:+14155550100'],
    ['+14155550100', 'whatsapp:+14155550100'],
    ['  +14155550100 ', 'whatsapp:+14155550100'],
    ['CO.4480491918930694', 'whatsapp:CO.4480491918930694'],
    ['whatsapp:US.ENT.abc123', 'whatsapp:US.ENT.abc123'],
    ['14155550100', null],
    ['whatsapp:+0123456789', null],
    ['sms:+14155550100', null],
    ['whatsapp:', null],
    ['', null],
  ];
  it.each(cases)('%j → %j', (input, expected) => {
    expect(recipientAddress(input)).toBe(expected);
  });
});
