import { describe, expect, it } from 'vitest';
import { broadcastList } from '../../src/domain/broadcast-list.js';
import { CsvError, parseCsv } from '../../src/domain/csv.js';

const listOf = (text: string) => broadcastList(parseCsv(text));

describe('broadcastList', () => {
  it('takes "to" in any column and every other column as a variable named by its header', () => {
    const list = listOf('1,To,2\nAna,+14155550100,3pm\n');
    expect(list.variableNames).toEqual(['1', '2']);
    expect(list.rows).toEqual([
      { line: 2, to: 'whatsapp:+14155550100', variables: { '1': 'Ana', '2': '3pm' } },
    ]);
  });

  it('skips bad rows with their reason and keeps the others', () => {
    const list = listOf(
      [
        'to,1',
        'whatsapp:+14155550101,Ana',
        'not-a-number,Bo',
        'whatsapp:+14155550102,',
        'whatsapp:+14155550103',
        '+14155550101,Ana again',
        'whatsapp:CO.4480491918930694,Cy',
      ].join('\n'),
    );
    expect(list.rows).toEqual([
      { line: 2, to: 'whatsapp:+14155550101', variables: { '1': 'Ana' } },
      { line: 3, input: 'not-a-number', skip: 'invalid_address' },
      { line: 4, input: 'whatsapp:+14155550102', skip: 'missing_variable' },
      { line: 5, input: 'whatsapp:+14155550103', skip: 'wrong_column_count' },
      { line: 6, input: '+14155550101', skip: 'duplicate' },
      { line: 7, to: 'whatsapp:CO.4480491918930694', variables: { '1': 'Cy' } },
    ]);
  });

  it('skips a value longer than a template variable may be', () => {
    expect(listOf(`to,1\n+14155550100,${'x'.repeat(1601)}\n`).rows[0]).toMatchObject({
      skip: 'variable_too_long',
    });
  });

  it.each([
    ['an empty file', ''],
    ['no "to" column', 'phone,1\n+14155550100,Ana\n'],
    ['a variable name with a space', 'to,first name\n'],
    ['a repeated column', 'to,1,1\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => listOf(text)).toThrow(CsvError);
  });
});
