/** Reading Meta's webhook JSON: every field optional and of any type until checked; text sanitized and bounded. */
import { stripControlChars, truncate } from '../../domain/sanitize.js';

export type Json = Record<string, unknown>;

/** Bound for every free-text field we keep, so metadata cannot grow without limit. */
export const MAX_FIELD = 1024;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` when it is an object. */
export function object(value: unknown, key: string): Json | undefined {
  const field = isObject(value) ? value[key] : undefined;
  return isObject(field) ? field : undefined;
}

/** `value[key]` when it is an array (its items still unchecked); [] otherwise. */
export function array(value: unknown, key: string): unknown[] {
  const field = isObject(value) ? value[key] : undefined;
  return Array.isArray(field) ? (field as unknown[]) : [];
}

/** `value[key]` as a string exactly as sent (ids, digits), or undefined when it is not a string. */
export function raw(value: unknown, key: string): string | undefined {
  const field = isObject(value) ? value[key] : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** A free-text field, sanitized, trimmed and bounded; empty reads as absent. Numbers are read as their text. */
export function text(value: unknown, key: string, max = MAX_FIELD): string | undefined {
  const field = isObject(value) ? value[key] : undefined;
  const string = typeof field === 'number' && Number.isFinite(field) ? String(field) : field;
  if (typeof string !== 'string') return undefined;
  const clean = truncate(stripControlChars(string).trim(), max);
  return clean === '' ? undefined : clean;
}

/** A number field; Meta sends coordinates as numbers, some SDKs as strings: both are read. */
export function number(value: unknown, key: string): number | undefined {
  const field = isObject(value) ? value[key] : undefined;
  const parsed = typeof field === 'string' && field.trim() !== '' ? Number(field) : field;
  return typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : undefined;
}

/** Meta's ids (wamid.…, media ids, phone number ids): printable ASCII without spaces, bounded. */
const PROVIDER_ID = /^[A-Za-z0-9._=+/:-]{1,256}$/;

export function providerId(value: unknown, key: string): string | undefined {
  const id = raw(value, key);
  return id !== undefined && PROVIDER_ID.test(id) ? id : undefined;
}
