/**
 * The outbound message a provider's "outside the window" failure belongs to, found by the failed part's provider
 * id (a status callback) or by the message id (the sender): what pipeline/window-fallback.ts needs to follow it.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export interface FailedOutbound {
  messageId: string;
  conversationId: string;
  /** The message's content type: a template's failure is never followed by another template. */
  contentType: string;
}

export async function failedOutbound(
  db: Db,
  by: { providerMessageId: string } | { messageId: string },
): Promise<FailedOutbound | null> {
  const where =
    'providerMessageId' in by
      ? sql`m.id = (select d.message_id from deliveries d where d.provider_message_id = ${by.providerMessageId})`
      : sql`m.id = ${by.messageId}::uuid`;
  const result = await db.execute(sql`
    select m.id, m.conversation_id, m.content_type from messages m
    where ${where} and m.role <> 'user'`);
  const row = rowsOf<{ id: string; conversation_id: string; content_type: string }>(result)[0];
  return row
    ? { messageId: row.id, conversationId: row.conversation_id, contentType: row.content_type }
    : null;
}
