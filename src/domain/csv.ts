/**
 * RFC 4180 CSV as spreadsheets export it: comma-separated, fields optionally in double quotes (a quote inside
 * written twice; commas and line breaks allowed inside), CRLF or LF line ends, an optional UTF-8 BOM. Blank
 * lines are dropped. Pure: the caller reads the file.
 */

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

export interface CsvRecord {
  /** The 1-based line the record starts on, for reports an operator can match to the file. */
  line: number;
  fields: string[];
}

/** Every record of the text, header included; throws CsvError on an unterminated or misplaced quote. */
export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  /** The current field was quoted and its closing quote seen: only a comma or a line end may follow. */
  let closed = false;
  /** Anything (a character, a quote, a comma) was seen in this record: a blank line is not a record. */
  let started = false;
  let line = 1;
  let recordLine = 1;

  const endField = () => {
    fields.push(field);
    field = '';
    closed = false;
  };
  const endRecord = () => {
    endField();
    if (started) records.push({ line: recordLine, fields });
    fields = [];
    started = false;
  };

  for (let i = 0; i < input.length; i++) {
    const char = input.charAt(i);
    if (inQuotes) {
      if (char === '"' && input.charAt(i + 1) === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        inQuotes = false;
        closed = true;
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === '\r' && input.charAt(i + 1) === '\n') continue;
    if (char === '\n') {
      endRecord();
      line++;
      recordLine = line;
      continue;
    }
    started = true;
    if (char === ',') endField();
    else if (closed) throw new CsvError(`line ${line}: text after a closing quote`);
    else if (char === '"') {
      if (field !== '') throw new CsvError(`line ${line}: a quote inside an unquoted field`);
      inQuotes = true;
    } else field += char;
  }
  if (inQuotes) throw new CsvError(`line ${recordLine}: a quoted field is never closed`);
  endRecord();
  return records;
}
