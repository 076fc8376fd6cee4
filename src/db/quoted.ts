/** The text of messages a user quoted, by the provider id the channel names them with (ours or theirs). */
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from './connect.js';
import { deliveries, messages } from './schema.js';

/**
 * provider id → text, for the ids found in this conversation: a part we sent (its body) or a message the user
 * sent (its rendering). Both lookups use the provider id's unique index.
 */
export async function quotedTexts(
  db: Db,
  conversationId: string,
  providerIds: string[],
): Promise<Map<string, string>> {
  if (providerIds.length === 0) return new Map();
  const [sent, received] = await Promise.all([
    db
      .select({ id: deliveries.providerMessageId, text: deliveries.body })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.conversationId, conversationId),
          inArray(deliveries.providerMessageId, providerIds),
        ),
      ),
    db
      .select({ id: messages.providerMessageId, text: messages.content })
      .from(messages)
      .where(
        and(eq(messages.conversationId, conversationId), inArray(messages.providerMessageId, providerIds)),
      ),
  ]);
  const texts = new Map<string, string>();
  for (const row of [...sent, ...received]) if (row.id !== null) texts.set(row.id, row.text);
  return texts;
}
