/**
 * The SQL a repository function really sends, and its plans: the function runs against a Drizzle instance whose
 * logger records each statement with its parameters, and each is then explained on the same pool. Used by
 * bench/explain-admin-queries.ts and by the plan tests (test/db/admin-query-plans.test.ts).
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Db } from '../src/db/connect.js';
import * as schema from '../src/db/schema.js';

export interface Statement {
  query: string;
  params: unknown[];
}

/** Every statement `run` sends, in the order it sent them. */
export async function capturedStatements(
  pool: pg.Pool,
  run: (db: Db) => Promise<unknown>,
): Promise<Statement[]> {
  const statements: Statement[] = [];
  const db = drizzle({
    client: pool,
    schema,
    logger: { logQuery: (query, params) => statements.push({ query, params }) },
  });
  await run(db);
  return statements;
}

/** The text plan of `statement`; `analyze` runs it (with BUFFERS) and adds the real row counts and timings. */
export async function explain(pool: pg.Pool, statement: Statement, analyze: boolean): Promise<string> {
  const options = analyze ? '(analyze, buffers)' : '';
  const result = await pool.query<{ 'QUERY PLAN': string }>(
    `explain ${options} ${statement.query}`,
    statement.params,
  );
  return result.rows.map((row) => row['QUERY PLAN']).join('\n');
}

export interface SeqScan {
  table: string;
  /** Rows the scan read (returned plus removed by its filter, times its loops); null in a plan without ANALYZE. */
  rowsRead: number | null;
}

/** The sequential scans in `plan` of the tables in `tables`. */
export function seqScans(plan: string, tables: readonly string[]): SeqScan[] {
  const lines = plan.split('\n');
  const found: SeqScan[] = [];
  for (const [index, line] of lines.entries()) {
    const table = /Seq Scan on (\w+)/.exec(line)?.[1];
    if (table === undefined || !tables.includes(table)) continue;
    const actual = /actual time=\S+ rows=(\d+) loops=(\d+)/.exec(line);
    if (!actual) {
      found.push({ table, rowsRead: null });
      continue;
    }
    // The node's own detail lines follow it, up to the next node ("->").
    let removed = 0;
    for (const detail of lines.slice(index + 1)) {
      if (detail.includes('->')) break;
      removed += Number(/Rows Removed by Filter: (\d+)/.exec(detail)?.[1] ?? 0);
    }
    found.push({ table, rowsRead: (Number(actual[1]) + removed) * Number(actual[2]) });
  }
  return found;
}

/** The tables of `tables` that `plan` reads with a sequential scan. */
export function seqScannedTables(plan: string, tables: readonly string[]): string[] {
  return seqScans(plan, tables).map((scan) => scan.table);
}
