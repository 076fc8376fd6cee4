/**
 * Opaque page cursors: the last row's sort key (exact timestamp text and id) in base64url JSON. Clients pass
 * them back unchanged; anything that does not decode to that shape is refused as a bad request.
 */
import type { Keyset } from '../db/conversation-views.js';
import { AppError } from '../domain/errors.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(key: Keyset): string {
  return Buffer.from(JSON.stringify([key.at, key.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'string' &&
    typeof parsed[1] === 'string' &&
    TIMESTAMP.test(parsed[0]) &&
    UUID.test(parsed[1])
  ) {
    return { at: parsed[0], id: parsed[1] };
  }
  throw new AppError('invalid_input', 'the cursor is not one this API returned', { code: 'invalid_cursor' });
}
