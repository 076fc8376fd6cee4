/**
 * The plans of every query the admin pages run, on a large dataset (bench/admin-dataset.ts), with timings.
 *
 *   node --import tsx bench/explain-admin-queries.ts [--messages 3000000] [--days 10] [--database admin_plans]
 *        [--reuse] [--drop]
 *
 * Creates the database (dropping one of that name), migrates it, fills it, then calls the real repository
 * functions (src/db/admin-queries.ts, getConversation) through a Drizzle logger that records each SQL
 * statement with its parameters, and runs `EXPLAIN (ANALYZE, BUFFERS)` on each (twice: the second, warm run
 * is printed). A sequential scan of a large table that reads more than COUNT_CAP + 1 rows (what a capped count
 * may read) is flagged and makes the exit code 1. `--reuse` keeps an existing database and only migrates it:
 * run once on the old code, then again with `--reuse` on the new one to time its migration on big tables and
 * compare the plans. Connects to BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  conversationThread,
  dashboardFigures,
  listConversations,
  listWebhookLogs,
  recentProblems,
  COUNT_CAP,
} from '../src/db/admin-queries.js';
import { connectDb, type Db } from '../src/db/connect.js';
import { getConversation } from '../src/db/conversations.js';
import { runMigrations } from '../src/db/migrate.js';
import { buildDataset } from './admin-dataset.js';
import { capturedStatements, explain, seqScans } from './explain.js';
import { ADMIN_DATABASE_URL } from './services.js';

/** Tables whose full scan per page load would not hold at 10 M messages a day. */
const LARGE_TABLES = ['messages', 'deliveries', 'delivery_events', 'webhook_logs', 'conversations'];
const LONG_CONVERSATION = '00000000-0000-4000-8000-000000000000';
const TYPICAL_CONVERSATION = '00000000-0000-4000-8000-000000000007';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000000' },
    days: { type: 'string', default: '10' },
    database: { type: 'string', default: 'admin_plans' },
    reuse: { type: 'boolean', default: false },
    drop: { type: 'boolean', default: false },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);

async function onAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** What each admin page asks the database, as named calls of the real functions. */
const PAGES: Array<[string, (db: Db) => Promise<unknown>]> = [
  ['dashboard: figures', (db) => dashboardFigures(db)],
  ['dashboard: recent problems', (db) => recentProblems(db)],
  ['conversations: all, page 1', (db) => listConversations(db, { filter: 'all', page: 1, pageSize: 50 })],
  ['conversations: all, page 200', (db) => listConversations(db, { filter: 'all', page: 200, pageSize: 50 })],
  ['conversations: paused', (db) => listConversations(db, { filter: 'paused', page: 1, pageSize: 50 })],
  ['conversation page: row', (db) => getConversation(db, TYPICAL_CONVERSATION)],
  ['conversation page: thread (15 messages)', (db) => conversationThread(db, TYPICAL_CONVERSATION, 500)],
  ['conversation page: thread (20,000 messages)', (db) => conversationThread(db, LONG_CONVERSATION, 500)],
  ['webhook log: all, page 1', (db) => listWebhookLogs(db, { status: 'all', page: 1, pageSize: 50 })],
  ['webhook log: errors, page 1', (db) => listWebhookLogs(db, { status: 'error', page: 1, pageSize: 50 })],
  [
    'webhook log: server errors, page 1',
    (db) => listWebhookLogs(db, { status: 'server-error', page: 1, pageSize: 50 }),
  ],
];

async function main(): Promise<void> {
  const name = args.database;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`--database: ${name} is not a plain identifier`);
  if (!args.reuse) {
    await onAdmin(`drop database if exists ${name} with (force)`);
    await onAdmin(`create database ${name}`);
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;

  const database = await connectDb({ kind: 'postgres', url: url.toString(), poolSize: 4 });
  const migrateStarted = performance.now();
  const { applied } = await runMigrations(database);
  log(`${applied} migration(s) applied in ${((performance.now() - migrateStarted) / 1000).toFixed(1)} s`);
  await database.close();

  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  try {
    if (!args.reuse) {
      const client = await pool.connect();
      try {
        await buildDataset(client, { messages: Number(args.messages), days: Number(args.days) }, log);
      } finally {
        client.release();
      }
    } else {
      await pool.query('analyze');
    }
    const sizes = await pool.query<{ relname: string; rows: string; size: string }>(
      `select relname, n_live_tup::text as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
       from pg_stat_user_tables where relname = any($1) order by relname`,
      [LARGE_TABLES],
    );
    console.log(`# Admin query plans (${new Date().toISOString()})\n`);
    for (const row of sizes.rows) console.log(`- ${row.relname}: ${row.rows} rows, ${row.size} with indexes`);

    let flagged = 0;
    for (const [page, run] of PAGES) {
      const captured = await capturedStatements(pool, run);
      for (const [index, statement] of captured.entries()) {
        await explain(pool, statement, true);
        const plan = await explain(pool, statement, true);
        // A sequential scan that stops early (under a LIMIT, as the capped list counts do) reads a bounded number
        // of rows whatever the table's size; one that reads more than that is what does not hold at scale.
        const scans = seqScans(plan, LARGE_TABLES);
        const unbounded = scans.filter((scan) => scan.rowsRead === null || scan.rowsRead > COUNT_CAP + 1);
        const time = /Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?';
        flagged += unbounded.length;
        console.log(
          `\n## ${page}${captured.length > 1 ? ` (${index + 1}/${captured.length})` : ''}: ${time} ms`,
        );
        for (const scan of scans) {
          const bounded = !unbounded.includes(scan);
          console.log(
            `\n**Seq Scan on ${scan.table}**: ${scan.rowsRead ?? '?'} rows read${bounded ? ' (bounded: stops at the limit)' : ''}`,
          );
        }
        console.log(
          `\n\`\`\`sql\n${statement.query.replace(/\s+/g, ' ').trim()}\n\`\`\`\n\n\`\`\`\n${plan}\n\`\`\``,
        );
      }
    }
    log(
      flagged === 0
        ? 'no sequential scan of a large table'
        : `${flagged} sequential scan(s) of a large table`,
    );
    process.exitCode = flagged === 0 ? 0 : 1;
  } finally {
    await pool.end();
    if (args.drop) await onAdmin(`drop database if exists ${name} with (force)`);
  }
}

await main();
