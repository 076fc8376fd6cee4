/**
 * One person, one conversation, across address changes. A conversation is keyed on the person's stable scoped id
 * when the channel gives one (Twilio's ExternalUserId), else on the sender address. A conversation that began
 * before the channel sent the scoped id is keyed on the phone address: the first message that carries both moves
 * it to the scoped id, so the user keeps their history when they later write from the scoped id alone. Each
 * business number has its own conversation with the person, so the move is made per business number.
 */
import { and, eq, notExists, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from './connect.js';
import { conversations } from './schema.js';
import { sqlState } from './sqlstate.js';

/** Pairs this process has already moved or found nothing to move for: one statement per sender, not per message. */
const settled = new WeakMap<Db, Set<string>>();
const MAX_SETTLED = 50_000;

/**
 * Re-key the conversation of `address` with our number `businessAddress` to `userId` on `channel`, unless a
 * conversation with that key exists already (it wins: it is where the scoped id's messages went). Idempotent;
 * concurrent callers are safe.
 */
export async function adoptScopedIdentity(
  db: Db,
  channel: string,
  address: string,
  userId: string,
  businessAddress: string,
): Promise<void> {
  let known = settled.get(db);
  if (!known) settled.set(db, (known = new Set()));
  const key = `${channel}\u0000${address}\u0000${userId}\u0000${businessAddress}`;
  if (known.has(key)) return;
  const existing = alias(conversations, 'existing');
  try {
    await db
      .update(conversations)
      .set({ userAddress: userId, updatedAt: sql`now()` })
      .where(
        and(
          eq(conversations.channel, channel),
          eq(conversations.userAddress, address),
          eq(conversations.businessAddress, businessAddress),
          notExists(
            db
              .select({ one: sql`1` })
              .from(existing)
              .where(
                and(
                  eq(existing.channel, channel),
                  eq(existing.userAddress, userId),
                  eq(existing.businessAddress, businessAddress),
                ),
              ),
          ),
        ),
      );
  } catch (error) {
    // A first message under the scoped id created its conversation at the same moment: that one is kept.
    if (sqlState(error) !== '23505') throw error;
  }
  if (known.size >= MAX_SETTLED) known.clear();
  known.add(key);
}
