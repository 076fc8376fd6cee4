/**
 * RETENTION_DAYS (pipeline/retention.ts): the aged rows of the conversation tables, deleted in bounded batches
 * as prune.ts does for the logs: each statement takes at most `batchSize` rows and commits on its own, a round
 * stops after `maxBatches`, and the next sweep goes on where it stopped.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { uuidArray } from './outbound.js';
import { daysAgo, deleteInBatches, type PruneBatches } from './prune.js';
import { rowsOf } from './rows.js';

/** A message about to be deleted; `payload` only for media messages (what the media store needs). */
export interface AgedMessage {
  id: string;
  payload: Record<string, unknown> | null;
}

// messages_role_created_idx leads with the role: one index range per role instead of a scan of the table.
const ROLES = ['user', 'assistant', 'system'] as const;

/**
 * Messages created more than `days` days ago, oldest first; `beforeDelete` sees each batch first (their media are
 * deleted before the rows that reference them). Their deliveries cascade. Returns how many went; the conversations
 * they belonged to are added to `touched` (the candidates of deleteAgedConversations).
 */
export async function deleteAgedMessages(
  db: Db,
  days: number,
  batches: PruneBatches,
  beforeDelete: (batch: AgedMessage[]) => Promise<unknown>,
  touched: Set<string> = new Set(),
): Promise<number> {
  let deleted = 0;
  let statements = 0;
  for (const role of ROLES) {
    while (statements < batches.maxBatches) {
      const result = await db.execute(sql`select id,
          case when payload->'content'->>'type' = 'media' then payload end as payload
        from messages where role = ${role} and created_at < ${daysAgo(days)}
        order by created_at limit ${batches.batchSize}`);
      const batch = rowsOf<AgedMessage>(result);
      if (batch.length === 0) break;
      await beforeDelete(batch);
      statements++;
      const gone = rowsOf<{ conversation_id: string }>(
        await db.execute(sql`delete from messages where id = any(${uuidArray(batch.map((m) => m.id))}::uuid[])
          returning conversation_id`),
      );
      deleted += gone.length;
      for (const row of gone) touched.add(row.conversation_id);
      if (batch.length < batches.batchSize) break;
    }
  }
  return deleted;
}

/** Model calls made more than `days` days ago (their messages may already be gone: the links are set null). */
export function deleteAgedModelCalls(db: Db, days: number, batches: PruneBatches): Promise<number> {
  return deleteInBatches(
    db,
    (limit) => sql`delete from model_calls where id in (
      select id from model_calls where created_at < ${daysAgo(days)} order by created_at limit ${limit}
    ) returning 1`,
    batches,
  );
}

/** Operators' notes written more than `days` days ago; their conversations are added to `touched`. */
export async function deleteAgedNotes(
  db: Db,
  days: number,
  batches: PruneBatches,
  touched: Set<string> = new Set(),
): Promise<number> {
  let deleted = 0;
  for (let statement = 0; statement < batches.maxBatches; statement++) {
    const gone = rowsOf<{ conversation_id: string }>(
      await db.execute(sql`delete from conversation_notes where id in (
        select id from conversation_notes where created_at < ${daysAgo(days)} order by created_at
        limit ${batches.batchSize}
      ) returning conversation_id`),
    );
    deleted += gone.length;
    for (const row of gone) touched.add(row.conversation_id);
    if (gone.length < batches.batchSize) break;
  }
  return deleted;
}

/**
 * Conversations inactive for more than `days` days with no message left (run after deleteAgedMessages, so
 * a conversation whose old messages are not all gone yet waits for a later round rather than cascading them).
 * With `candidates` (the conversations whose messages or notes this round deleted), only those are examined: the
 * cost follows what is deleted, and a conversation the business keeps writing to (a broadcast every week to someone
 * who never answers: its last_activity_at is old, its messages are not) is not examined again every round. Without
 * them, every inactive conversation is (the scheduler's first round: a conversation emptied by a round that died
 * before this step, or one that never had a message).
 */
export function deleteAgedConversations(
  db: Db,
  days: number,
  batches: PruneBatches,
  candidates?: ReadonlySet<string>,
): Promise<number> {
  if (candidates?.size === 0) return Promise.resolve(0);
  const among = candidates ? sql`and c.id = any(${uuidArray([...candidates])}::uuid[])` : sql``;
  return deleteInBatches(
    db,
    (limit) => sql`delete from conversations where id in (
      select c.id from conversations c
      where c.last_activity_at < ${daysAgo(days)} ${among}
        and not exists (select 1 from messages m where m.conversation_id = c.id)
        and not exists (select 1 from conversation_notes n
          where n.conversation_id = c.id and n.created_at >= ${daysAgo(days)})
      order by c.last_activity_at limit ${limit}
    ) returning 1`,
    batches,
  );
}
