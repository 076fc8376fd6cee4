/**
 * Rows of a raw `db.execute(sql...)`. node-postgres and PGlite both answer with `{ rows }`, but the shared Db type
 * cannot say so; the caller names the row shape its own SQL selects (cast numbers with ::int, so both drivers agree).
 */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
