/**
 * The webhook audit log (webhook_logs), written in batches off the request path.
 *
 * Why: the audit row is the widest thing a webhook stores (headers and every parameter as JSON) and is not part of
 * the truth (the message row is). Written inside the accept statement it cost about a fifth of the webhook's
 * throughput (bench/analysis.md); written here, many requests share one multi-row INSERT.
 * The price, documented for operators: a crash (SIGKILL, power loss) loses the rows of the last flush interval
 * (100 ms by default). A graceful shutdown flushes (for at most 5 s). While the database is down or slow, rows
 * wait in a bounded buffer with at most one batch in flight; past the bound the oldest are dropped, with a
 * warning that counts them.
 */
import type { Logger } from '../log.js';
import type { Db } from './connect.js';
import { prepared, runPrepared } from './prepared.js';
import { isRefusal } from './sqlstate.js';
import { webhookLogRow, type WebhookLogInput } from './webhook-logs.js';

export interface WebhookLogWriter {
  /** Queue a row; it is stored within flushMs. Never throws and never waits. */
  write(entry: WebhookLogInput): void;
  /** Store everything queued so far (tests, shutdown). */
  flush(): Promise<void>;
  /** Flush (waiting at most 5 s) and stop. Writes after close are stored at once. */
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

/** close() waits this long for the last rows; a database that hangs must not hold up the shutdown. */
const CLOSE_DEADLINE_MS = 5000;
/** After a failed write (the database is down), try again this often. */
const RETRY_MS = 1000;

export function webhookLogWriter(db: Db, options: WebhookLogWriterOptions = {}): WebhookLogWriter {
  const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  /** Oldest first. With at most one batch in flight (≤ maxBatch rows), memory stays bounded during an outage. */
  let buffer: Row[] = [];
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let closed = false;
  /** Rows dropped since the last report. */
  let dropped = 0;
  /** Rows of the batch being stored (out of the buffer until it succeeds or is kept). */
  let inFlight = 0;

  const later = (ms: number): void => {
    if (timer || closed) return;
    timer = setTimeout(() => void kick(), ms);
    // A pending audit row must not keep a finished process alive; shutdown calls close(), which flushes.
    timer.unref();
  };

  // One store at a time, oldest rows first; writes made meanwhile are taken by the same loop.
  function kick(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    draining ??= drain().finally(() => {
      draining = undefined;
    });
    return draining;
  }

  const drain = async (): Promise<void> => {
    for (;;) {
      reportDropped();
      if (buffer.length === 0) return;
      const batch = buffer.splice(0, maxBatch);
      inFlight = batch.length;
      const stored = await store(batch);
      inFlight = 0;
      if (!stored) {
        later(Math.max(flushMs, RETRY_MS));
        return;
      }
    }
  };

  /** False when the database did not take the rows (they are back in the buffer). */
  const store = async (batch: Row[]): Promise<boolean> => {
    try {
      await insertBatch(db, batch);
      return true;
    } catch (error) {
      if (!isRefusal(error)) return keep(batch, error);
      // PostgreSQL refused the statement: find the row it refuses, so it does not cost the others.
      let refused = 0;
      for (const [index, row] of batch.entries()) {
        try {
          await insertBatch(db, [row]);
        } catch (rowError) {
          if (!isRefusal(rowError)) return keep(batch.slice(index), rowError);
          refused += 1;
        }
      }
      options.log?.warn({ err: error, rows: refused }, 'webhook log rows refused; dropped');
      return true;
    }
  };

  // No answer, or a "try later" one (shutdown, too many connections): back to the front of the buffer, bounded.
  const keep = (rows: Row[], error: unknown): false => {
    buffer = [...rows, ...buffer];
    trim();
    options.log?.warn(
      { err: error, rows: rows.length },
      'could not write webhook log rows; kept for the next attempt',
    );
    return false;
  };

  // Counted here, reported once per batch: an outage under load must not become a log line per request.
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
      if (closed || buffer.length >= maxBatch) void kick();
      else later(flushMs);
    },
    flush: kick,
    async close() {
      closed = true;
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        deadline = setTimeout(() => resolve('timeout'), CLOSE_DEADLINE_MS);
      });
      const outcome = await Promise.race([kick(), timedOut]);
      clearTimeout(deadline);
      reportDropped();
      const left = buffer.length + inFlight;
      if (outcome === 'timeout' || left > 0)
        options.log?.warn({ rows: left }, 'webhook log rows not written before shutdown; dropped');
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
