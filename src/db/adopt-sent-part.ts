/**
 * A part whose send Meta took, but whose answer we lost (a crash between the Graph API's answer and storing it):
 * Meta has no "find the message I sent" query, so the sender puts the part's id into every send
 * (`biz_opaque_callback_data`) and Meta echoes it in the status webhooks. The first status that names a part still
 * without a provider id gives it that wamid, through record_sent, so the status ranking is the same as for a send
 * whose answer arrived, and the sender never sends the part again.
 */
import { sql } from 'drizzle-orm';
import type { DeliveryStatus } from '../domain/types.js';
import type { Db } from './connect.js';
import { recordSent, type SentPart } from './deliveries.js';
import { rowsOf } from './rows.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Give `providerMessageId` to part `partId` when it is a Meta part still unsent ('pending' or 'sending', no
 * provider id). Null when nothing was adopted (unknown part, another channel's, already sent or failed).
 * `status` is what the adoption itself says ('sent'); the status events already stored for the wamid are
 * ranked with it by record_sent.
 */
export async function adoptSentPart(
  db: Db,
  partId: string,
  providerMessageId: string,
  status: DeliveryStatus = 'sent',
): Promise<SentPart | null> {
  // Whatever another sender on the same app put there is not ours (and must not reach the uuid cast).
  if (!UUID.test(partId)) return null;
  const result = await db.execute(sql`
    select d.id from deliveries d join conversations c on c.id = d.conversation_id
    where d.id = ${partId}::uuid and d.provider_message_id is null and d.status in ('pending', 'sending')
      and c.channel = 'meta'`);
  if (rowsOf<{ id: string }>(result).length === 0) return null;
  return recordSent(db, partId, providerMessageId, status);
}
