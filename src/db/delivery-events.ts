/** Questions about the status callbacks kept in `delivery_events` (every status, as it arrived). */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';
import { textArray } from './text-array.js';

/** How many of these provider message ids have at least one status callback: the primary key's prefix. */
export async function countWithStatusEvents(db: Db, providerMessageIds: readonly string[]): Promise<number> {
  if (providerMessageIds.length === 0) return 0;
  const result = await db.execute(sql`
    select count(distinct provider_message_id)::int as count from delivery_events
    where provider_message_id = any(${textArray(providerMessageIds)}::text[])`);
  return rowsOf<{ count: number }>(result)[0]?.count ?? 0;
}
