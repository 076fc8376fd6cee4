/**
 * The handoff's own reads and writes on conversations: when the current handoff began, and the idle timer that
 * gives handed-off conversations back to the bot (the mode switch itself is switchConversationMode).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

/** The conversation's current handoff: when it began and why; null unless it is in `human` with a recorded start. */
export async function currentHandoff(db: Db, id: string): Promise<{ at: Date; reason: string } | null> {
  const result = await db.execute(
    sql`select handoff_at, handoff_reason from conversations where id = ${id} and mode = 'human'`,
  );
  const row = rowsOf<{ handoff_at: Date | string | null; handoff_reason: string | null }>(result)[0];
  if (row?.handoff_at == null) return null;
  return { at: new Date(row.handoff_at), reason: row.handoff_reason ?? 'unknown' };
}

export interface ReturnedToBot {
  conversationId: string;
  /** When the handoff it ends had begun. */
  handoffAt: Date;
}

/**
 * Give back to the bot, in one statement, up to `limit` conversations that have been in `human` for idleMs with no
 * operator message (counted from the later of the handoff and the operator's last message), oldest handoff first.
 * The condition is written again in the UPDATE's WHERE, on the row it locks: an operator who writes (or switches
 * the mode) at that very moment makes the row fail it, and the conversation stays with them. The candidates are
 * read through conversations_human_idx (handoff_at, id where mode = 'human'): a handoff older than idleMs is a
 * necessary condition, so the scan stops at the first recent one.
 */
export async function returnIdleHandoffsToBot(
  db: Db,
  idleMs: number,
  limit: number,
): Promise<ReturnedToBot[]> {
  const cutoff = sql`now() - make_interval(secs => ${idleMs / 1000})`;
  const idle = sql`c.mode = 'human' and c.handoff_at < ${cutoff}
      and (c.last_operator_message_at is null or c.last_operator_message_at < ${cutoff})`;
  const result = await db.execute(sql`
    with candidates as (
      select c.id from conversations c
      where ${idle}
      order by c.handoff_at, c.id
      limit ${limit}
    )
    update conversations c set mode = 'bot', updated_at = now()
    from candidates
    where c.id = candidates.id and ${idle}
    returning c.id, c.handoff_at`);
  return rowsOf<{ id: string; handoff_at: Date | string }>(result).map((row) => ({
    conversationId: row.id,
    handoffAt: new Date(row.handoff_at),
  }));
}
