/**
 * What the worker learnt about an inbound message's media (issue #15), written back onto the message: its payload
 * (where each item is stored, why one was refused, a voice note's transcript) and its text rendering, which the
 * context, the admin and the simulator read. Written after each step, so a retried job finds what is done.
 */
import { sql } from 'drizzle-orm';
import type { Content, MessageContext } from '../domain/content.js';
import type { Db } from './connect.js';
import { storableJson, storableText } from './storable.js';

export async function recordMediaProgress(
  db: Db,
  messageId: string,
  payload: { content: Content; context: MessageContext },
  rendering: string,
): Promise<void> {
  await db.execute(sql`
    update messages set payload = coalesce(payload, '{}'::jsonb) || ${JSON.stringify(storableJson(payload))}::jsonb, content = ${storableText(rendering)}
    where id = ${messageId} and role = 'user'`);
}
