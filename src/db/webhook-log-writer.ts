/**
 * The webhook audit log (webhook_logs), written in batches off the request path.
 *
 * Why: the audit row is the widest thing a webhook stores (headers and every parameter as JSON) and is not part of
 * the truth (the message row is). Written inside the accept statement it cost about a fifth of the webhook's
 * throughput (bench/analysis.md); written here, many requests share one multi-row INSERT.
 * The price, documented for operators: a crash (SIGKILL, power loss) loses the rows of the last flush interval
 * (100 ms by default). A graceful shutdown flushes. While the database is down, rows wait in a bounded buffer;
 * past the bound the oldest are dropped, with a warning that counts them.
 */
import type { Logger } from '../log.js';
import type { Db } from './connect.js';
import { prepared, runPrepared } from './prepared.js';
import { sqlState } from './sqlstate.js';
import { webhookLogRow, type WebhookLogInput } from './webhook-logs.js';

export interface WebhookLogWriter {
  /** Queue a row; it is stored within flushMs. Never throws and never waits. */
  write(entry: WebhookLogInput): void;
  /** Store everything queued so far (tests, shutdown). */
  flush(): Promise<void>;
  /** Flush and stop. Writes after close are stored at once, one by one. */
  close(): Promise<void>;
}

export interface WebhookLogWriterOptions {
  /** How long a row may wait for companions; 0 writes each row at once (still off the request path). */
  flushMs?: number;
  /** A batch is written as soon as it has this many rows. */
  maxBatch?: number;
  /** Rows kept while the database is down; older ones are dropped past this. */
  maxBuffered?: number;
  log?: Pick<Logger, 'warn'>;
}

const DEFAULT_FLUSH_MS = 100;
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_MAX_BUFFERED = 20_000;

type Row = ReturnType<typeof webhookLogRow>;

export function webhookLogWriter(db: Db, options: WebhookLogWriterOptions = {}): WebhookLogWriter {
  const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  let buffer: Row[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;
  /** Rows dropped since the last report. */
  let dropped = 0;

  const schedule = (): void => {
    if (buffer.length >= maxBatch || closed) {
      void flush();
      return;
    }
    if (timer) return;
    timer = setTimeout(() => void flush(), flushMs);
    // A pending audit row must not keep a finished process alive; shutdown calls close(), which flushes.
    timer.unref();
  };

  // One batch at a time, in order: a flush waits for the one before it.
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    reportDropped();
    const batch = buffer;
    buffer = [];
    writing = writing.then(() => (batch.length > 0 ? store(batch) : undefined));
    return writing;
  };

  const store = async (batch: Row[]): Promise<void> => {
    try {
      await insertBatch(db, batch);
    } catch (error) {
      if (sqlState(error) === undefined) {
        // No answer from PostgreSQL (down, restarting): keep the rows for the next attempt, bounded.
        requeue(batch);
        options.log?.warn(
          { err: error, rows: batch.length },
          'could not write webhook log rows; kept for the next attempt',
        );
        return;
      }
      // PostgreSQL refused the statement: find the row it refuses, so it does not cost the others.
      let refused = 0;
      for (const row of batch) await insertBatch(db, [row]).catch(() => (refused += 1));
      if (refused > 0) options.log?.warn({ err: error, rows: refused }, 'webhook log rows refused; dropped');
    }
  };

  const requeue = (rows: Row[]): void => {
    buffer = [...rows, ...buffer];
    trim();
    if (!timer && !closed) {
      timer = setTimeout(() => void flush(), Math.max(flushMs, 1000));
      timer.unref();
    }
  };

  // Counted here, reported once per flush: an outage under load must not become a log line per request.
  const trim = (): void => {
    const excess = buffer.length - maxBuffered;
    if (excess <= 0) return;
    buffer = buffer.slice(excess);
    dropped += excess;
  };

  const reportDropped = (): void => {
    if (dropped === 0) return;
    options.log?.warn({ dropped }, 'webhook log buffer full; oldest rows dropped');
    dropped = 0;
  };

  return {
    write(entry) {
      // Stamped now, not when the batch reaches the database: the log orders by when the request was handled.
      buffer.push({ ...webhookLogRow(entry), createdAt: new Date() });
      trim();
      schedule();
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}

/** Many rows, one statement: the batch travels as one jsonb array and is expanded by PostgreSQL. */
async function insertBatch(db: Db, rows: Row[]): Promise<void> {
  await runPrepared(db, INSERT_WEBHOOK_LOGS, [JSON.stringify(rows)]);
}

const INSERT_WEBHOOK_LOGS = prepared<never>(
  'insert_webhook_logs',
  `insert into webhook_logs
     (channel, kind, method, path, headers, body, response_status, processing_time_ms, error, provider_message_id,
      created_at)
   select channel, kind, method, path, headers, body, "responseStatus", "processingTimeMs", error, "providerMessageId",
     "createdAt"
   from jsonb_to_recordset($1::jsonb) as row(channel text, kind text, method text, path text, headers jsonb,
     body jsonb, "responseStatus" integer, "processingTimeMs" real, error text, "providerMessageId" text,
     "createdAt" timestamptz)`,
);
