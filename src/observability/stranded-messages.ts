/**
 * The stranded-message count as /health/ and /metrics read it: from the database, kept a few seconds so that a
 * Prometheus scraping every second, several dashboards and a health probe cost one query between them.
 */
import type { Db } from '../db/connect.js';
import { countStrandedMessages } from '../db/stranded-messages.js';

export interface StrandedMessagesOptions {
  /** STRANDED_AFTER_SECONDS, in milliseconds. */
  olderThanMs: number;
  /** How long one reading is reused. */
  cacheMs?: number;
  /** Milliseconds; tests move it. */
  now?: () => number;
}

const CACHE_MS = 5000;

/** A reader of the count: at most one query per cacheMs, and callers during a query share it. */
export function strandedMessagesReader(db: Db, options: StrandedMessagesOptions): () => Promise<number> {
  const cacheMs = options.cacheMs ?? CACHE_MS;
  const now = options.now ?? Date.now;
  let value: { count: number; at: number } | undefined;
  let inFlight: Promise<number> | undefined;
  return () => {
    if (value && now() - value.at < cacheMs) return Promise.resolve(value.count);
    inFlight ??= countStrandedMessages(db, options.olderThanMs)
      .then((count) => {
        value = { count, at: now() };
        return count;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
