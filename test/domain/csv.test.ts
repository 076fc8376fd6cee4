import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv } from '../../src/domain/csv.js';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv', () => {
  const cases: Array<[string, string, string[][]]> = [
    [
      'plain rows',
      'to,1\nwhatsapp:+1,Ana\n',
      [
        ['to', '1'],
        ['whatsapp:+1', 'Ana'],
      ],
    ],
    [
      'CRLF line ends and no final newline',
      'a,b\r\nc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['a BOM is not part of the first name', '\uFEFFto\nx', [['to'], ['x']]],
    ['quoted commas, doubled quotes and line breaks', 'a,"b, ""c""\nd"\n', [['a', 'b, "c"\nd']]],
    [
      'empty fields are kept',
      'a,,c\n,,\n',
      [
        ['a', '', 'c'],
        ['', '', ''],
      ],
    ],
    ['blank lines are dropped', 'a\n\n\nb\n\n', [['a'], ['b']]],
    ['a quoted empty field is a record', '""\n', [['']]],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  it('numbers each record by the line it starts on, counting line breaks inside quotes', () => {
    expect(parseCsv('h\n"x\ny"\n\nz\n').map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it.each([
    ['an unclosed quote', 'a,"b\n'],
    ['text after a closing quote', '"a"b\n'],
    ['a quote inside an unquoted field', 'ab"c\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseCsv(text)).toThrow(CsvError);
  });
});
