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

/**
 * Where to send a list request whose page lies past the last one (`?page=99` of 2, an old bookmark, rows
 * deleted meanwhile): the same URL, filters kept, on the last page (page 1 when nothing matches). Null when
 * the page exists.
 */
export function pastLastPage(
  requestUrl: string,
  result: { items: readonly unknown[]; total: number; page: number; pageSize: number },
): string | null {
  if (result.items.length > 0 || result.page <= 1) return null;
  const last = Math.max(1, Math.ceil(result.total / result.pageSize));
  if (result.page <= last) return null;
  const url = new URL(requestUrl, 'http://admin.invalid');
  url.searchParams.set('page', String(last));
  return `${url.pathname}${url.search}`;
}
