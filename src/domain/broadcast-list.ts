/**
 * A broadcast's recipients from a CSV table: a header row with a `to` column (the address) and one column per
 * template variable, named exactly as the template's variable (`1`, `2`, … for Twilio's numbered ones). Each
 * data row becomes a recipient or a skip with its reason, so one bad row never stops the others. Pure.
 */
import { CsvError, type CsvRecord } from './csv.js';
import { recipientAddress } from './sanitize.js';
import { isTemplateVariableName, MAX_TEMPLATE_VALUE_LENGTH, MAX_TEMPLATE_VARIABLES } from './template.js';

export type BroadcastSkipReason =
  'invalid_address' | 'missing_variable' | 'variable_too_long' | 'wrong_column_count' | 'duplicate';

export type BroadcastRow =
  | { line: number; to: string; variables: Record<string, string> }
  | { line: number; input: string; skip: BroadcastSkipReason };

export interface BroadcastList {
  variableNames: string[];
  rows: BroadcastRow[];
}

/** Throws CsvError when the header itself is unusable (no `to`, a bad or repeated variable name, no rows). */
export function broadcastList(records: CsvRecord[]): BroadcastList {
  const [header, ...data] = records;
  if (!header) throw new CsvError('the file is empty: it needs a header row with a "to" column');
  const names = header.fields.map((name) => name.trim());
  const toIndex = names.findIndex((name) => name.toLowerCase() === 'to');
  if (toIndex < 0) throw new CsvError('the header has no "to" column');
  const variableNames = names.filter((_name, i) => i !== toIndex);
  if (variableNames.length > MAX_TEMPLATE_VARIABLES)
    throw new CsvError(`at most ${MAX_TEMPLATE_VARIABLES} variable columns`);
  for (const name of variableNames) {
    if (!isTemplateVariableName(name))
      throw new CsvError(`column "${name}": a variable name is letters, digits or _, at most 16 characters`);
  }
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length)
    throw new CsvError('a column name appears twice in the header');

  const seen = new Set<string>();
  const rows = data.map((record): BroadcastRow => {
    const input = (record.fields[toIndex] ?? '').trim();
    const skip = (reason: BroadcastSkipReason): BroadcastRow => ({ line: record.line, input, skip: reason });
    if (record.fields.length !== names.length) return skip('wrong_column_count');
    const to = recipientAddress(input);
    if (to === null) return skip('invalid_address');
    const variables: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      if (i === toIndex) continue;
      const value = record.fields[i] ?? '';
      if (value.trim() === '') return skip('missing_variable');
      if (value.length > MAX_TEMPLATE_VALUE_LENGTH) return skip('variable_too_long');
      variables[name] = value;
    }
    // One message per person: the same address twice in a file (written differently, perhaps) is sent once.
    if (seen.has(to)) return skip('duplicate');
    seen.add(to);
    return { line: record.line, to, variables };
  });
  return { variableNames, rows };
}
