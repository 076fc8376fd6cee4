/**
 * A voice answer is one more delivery part of the reply it speaks (issue #15): the only part of the reply with a
 * payload (its media), after the text parts. Stored once: the insert refuses a second one for the same reply, so
 * a retried job neither stores nor sends the voice twice.
 */
import { sql } from 'drizzle-orm';
import type { OutboundContent } from '../domain/content.js';
import type { Db } from './connect.js';
import type { Delivery } from './deliveries.js';
import { rowsOf } from './rows.js';

/** The reply has its voice part already (stored by an earlier run). */
export async function hasVoicePart(db: Db, replyId: string): Promise<boolean> {
  const rows = rowsOf<{ found: boolean }>(
    await db.execute(sql`select exists (select 1 from deliveries
      where message_id = ${replyId} and payload is not null) as found`),
  );
  return rows[0]?.found === true;
}

/**
 * Store the voice part after the reply's text parts, already claimed for sending (the caller sends it now), unless
 * the reply has one: then null. One statement, so two runs can never both store one.
 */
export async function insertVoicePart(
  db: Db,
  part: {
    replyId: string;
    conversationId: string;
    content: OutboundContent;
    to: string;
    from: string | null;
  },
): Promise<Delivery | null> {
  const rows = rowsOf<{ id: string; part_index: number; part_count: number }>(
    await db.execute(sql`
      insert into deliveries (message_id, conversation_id, part_index, part_count, body, payload, to_address,
        from_address, status, attempts, sending_started_at)
      select ${part.replyId}::uuid, ${part.conversationId}::uuid, coalesce(max(part_index), -1) + 1,
        coalesce(max(part_index), -1) + 2, '', ${JSON.stringify(part.content)}::jsonb, ${part.to}, ${part.from},
        'sending', 1, now()
      from deliveries where message_id = ${part.replyId}::uuid
      having not coalesce(bool_or(payload is not null), false)
      on conflict (message_id, part_index) do nothing
      returning id, part_index, part_count`),
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    messageId: part.replyId,
    conversationId: part.conversationId,
    partIndex: row.part_index,
    partCount: row.part_count,
    body: '',
    content: part.content,
    to: part.to,
    from: part.from,
    status: 'sending',
    attempts: 1,
    sendingStartedAt: new Date(),
    claimed: true,
  };
}
