/**
 * Retention deletes in bounded batches. One `DELETE … WHERE created_at < cutoff` over a month of backlog would
 * run for minutes, holding its row locks and a long transaction (which also keeps VACUUM from reclaiming
 * anything) the whole time. Here each statement removes at most `batchSize` of the oldest rows and commits on its
 * own; a round stops after `maxBatches`, and the next sweep goes on where this one stopped.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export interface PruneBatches {
  batchSize: number;
  maxBatches: number;
}

/** 5,000 rows a statement (tens of milliseconds), up to 200,000 rows a sweep round. */
export const PRUNE_BATCHES: PruneBatches = { batchSize: 5000, maxBatches: 40 };

/**
 * Runs `deleteBatch(limit)`, a `DELETE … RETURNING` of at most `limit` rows, until a batch comes back short or
 * `maxBatches` ran; returns how many rows went.
 */
export async function deleteInBatches(
  db: Db,
  deleteBatch: (limit: number) => SQL,
  { batchSize, maxBatches }: PruneBatches,
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const result = await db.execute(
      sql`with gone as (${deleteBatch(batchSize)}) select count(*)::int as count from gone`,
    );
    const count = rowsOf<{ count: number }>(result)[0]?.count ?? 0;
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}

/** `now()` less `days` days, for a retention cutoff. */
export function daysAgo(days: number): SQL {
  return sql`now() - make_interval(days => ${days})`;
}
