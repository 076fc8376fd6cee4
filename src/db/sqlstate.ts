/**
 * PostgreSQL answers with a five-character SQLSTATE. Class 22 (data exception) and 23 (integrity constraint)
 * mean the statement was refused for what it carried: the database is up, and retrying the same values gives
 * the same answer. Telling these apart from a connection failure keeps a bad value from being reported (and
 * alerted) as "database down".
 */
export function isRefusedData(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/** The SQLSTATE somewhere down the cause chain (drivers and query builders wrap the server's error). */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}
