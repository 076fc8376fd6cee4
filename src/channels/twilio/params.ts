/** Reading Twilio's form params: single-valued, sanitized, bounded. */
import { AppError } from '../../domain/errors.js';
import { stripControlChars, truncate } from '../../domain/sanitize.js';

export type FormParams = Record<string, string | string[]>;

/** Bound for every free-text field we keep, so metadata cannot grow without limit. */
export const MAX_FIELD = 1024;

/** Read a single-valued param; a repeated one is hostile (two MessageSids: which one is deduplicated?). */
export function single(params: FormParams, key: string): string | undefined {
  if (!Object.hasOwn(params, key)) return undefined;
  const value = params[key];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length > 1)
    throw new AppError('invalid_input', `Twilio param ${key} must appear once, got ${value.length}`);
  return value[0];
}

/** A free-text param, sanitized, trimmed and bounded; empty reads as absent. */
export function text(params: FormParams, key: string, max = MAX_FIELD): string | undefined {
  const value = single(params, key);
  if (value === undefined) return undefined;
  const clean = truncate(stripControlChars(value).trim(), max);
  return clean === '' ? undefined : clean;
}

/** Twilio's boolean strings (`"true"`/`"false"`); anything else is false. */
export function flag(params: FormParams, key: string): boolean {
  return text(params, key)?.toLowerCase() === 'true';
}
