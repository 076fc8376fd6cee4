/** Query and path parameters as the pages accept them: anything unexpected falls back to a default. */
import { AppError } from '../domain/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id, or a 404 before any query runs (PostgreSQL would reject a malformed uuid). */
export function idParam(value: string, what: string): string {
  if (!UUID.test(value)) throw new AppError('not_found', `No ${what} with this id.`);
  return value;
}

export function pageParam(value: unknown): number {
  const page = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : 1;
  return Math.max(1, page);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : fallback;
}

export function textParam(value: unknown, maxLength = 200): string {
  return typeof value === 'string' ? value.slice(0, maxLength) : '';
}
