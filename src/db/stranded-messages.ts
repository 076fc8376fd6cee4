/**
 * How many accepted messages have waited longer than the stranded threshold without being handled: the figure
 * that shows a deployment whose scheduler is not running (nothing would ever enqueue them) or whose workers are
 * far behind. Cheap: it reads only the partial index of pending rows (messages_pending_idx).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

/** Inbound messages still 'pending' that were stored more than olderThanMs ago. */
export async function countStrandedMessages(db: Db, olderThanMs: number): Promise<number> {
  const result = await db.execute(sql`
    select count(*)::int as count from messages
    where processing_status = 'pending'
      and created_at < now() - make_interval(secs => ${olderThanMs / 1000})`);
  return rowsOf<{ count: number }>(result)[0]?.count ?? 0;
}
