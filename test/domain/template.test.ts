import { describe, expect, it } from 'vitest';
import { isContentSid, templateVariablesProblem } from '../../src/domain/template.js';

describe('Twilio template checks', () => {
  it.each([
    ['HX' + 'a1'.repeat(16), true],
    ['HX' + 'A1'.repeat(16), true],
    ['HX' + 'a1'.repeat(15), false],
    ['MG' + 'a1'.repeat(16), false],
    ['HX' + 'g1'.repeat(16), false],
  ])('isContentSid(%s) is %s', (sid, expected) => {
    expect(isContentSid(sid)).toBe(expected);
  });

  it.each([
    [{ '1': 'Ana', first_name: 'Ana' }, null],
    [{ 'first name': 'Ana' }, /variable name/],
    [{ averyveryverylongname: 'x' }, /variable name/],
    [{ '1': ' ' }, /empty/],
    [{ '1': 'x'.repeat(1601) }, /longer than 1600/],
    [Object.fromEntries(Array.from({ length: 101 }, (_, i) => [String(i), 'x'])), /at most 100/],
  ])('templateVariablesProblem(%j)', (variables, expected) => {
    const problem = templateVariablesProblem(variables);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});
