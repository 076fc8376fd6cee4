import { and, eq, lt, sql } from 'drizzle-orm';
import type { ChannelName } from '../domain/types.js';
import type { Db } from './connect.js';
import { prepared, runPrepared } from './prepared.js';
import { conversations } from './schema.js';

export interface Conversation {
  id: string;
  channel: ChannelName;
  /** The sender as the channel gives it; replies go to it. */
  userAddress: string;
  /** Our address the user wrote to; replies come from it (null: the channel's default). */
  businessAddress: string | null;
  profileName: string | null;
  isActive: boolean;
  botPaused: boolean;
  /** Turns before this are not part of the model's context. */
  contextResetAt: Date | null;
  lastActivityAt: Date;
}

const CONVERSATION_COLUMNS = {
  id: conversations.id,
  channel: conversations.channel,
  userAddress: conversations.userAddress,
  businessAddress: conversations.businessAddress,
  profileName: conversations.profileName,
  isActive: conversations.isActive,
  botPaused: conversations.botPaused,
  contextResetAt: conversations.contextResetAt,
  lastActivityAt: conversations.lastActivityAt,
};

export async function getConversation(db: Db, id: string): Promise<Conversation | null> {
  const rows = await db.select(CONVERSATION_COLUMNS).from(conversations).where(eq(conversations.id, id));
  const row = rows[0];
  // The CHECK constraint keeps `channel` to the ChannelName values.
  return row ? { ...row, channel: row.channel as ChannelName } : null;
}

/**
 * The conversation as the worker starts on it, and whether any reply part is still unsent (a crash or a
 * transient send failure left it): one query, where asking separately would cost a round trip on every job.
 */
export async function conversationForWork(
  db: Db,
  id: string,
): Promise<(Conversation & { hasUnsentParts: boolean }) | null> {
  const rows = await runPrepared(db, CONVERSATION_FOR_WORK, [id]);
  const row = rows[0];
  return row ? { ...row, channel: row.channel as ChannelName } : null;
}

// Runs once per job: prepared (see prepared.ts).
const CONVERSATION_FOR_WORK = prepared<
  Omit<Conversation, 'channel'> & { channel: string; hasUnsentParts: boolean }
>(
  'conversation_for_work',
  `select c.id, c.channel, c.user_address as "userAddress", c.business_address as "businessAddress",
     c.profile_name as "profileName", c.is_active as "isActive", c.bot_paused as "botPaused",
     c.context_reset_at as "contextResetAt", c.last_activity_at as "lastActivityAt",
     exists (select 1 from deliveries as part
       where part.conversation_id = c.id and part.status in ('pending', 'sending')) as "hasUnsentParts"
   from conversations c where c.id = $1`,
);

/** Pause or resume the bot for a conversation (a human takes over). False if there is no such conversation. */
export async function setBotPaused(db: Db, id: string, paused: boolean): Promise<boolean> {
  const rows = await db
    .update(conversations)
    .set({ botPaused: paused })
    .where(eq(conversations.id, id))
    .returning({ id: conversations.id });
  return rows.length > 0;
}

/** Start the model's context afresh from now on; the stored messages stay. False if there is no such conversation. */
export async function resetContext(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(conversations)
    .set({ contextResetAt: sql`now()` })
    .where(eq(conversations.id, id))
    .returning({ id: conversations.id });
  return rows.length > 0;
}

/** Mark conversations idle for longer than idleMs inactive; returns how many. The next message reactivates one. */
export async function expireIdleConversations(db: Db, idleMs: number): Promise<number> {
  const expired = db.$with('expired').as(
    db
      .update(conversations)
      .set({ isActive: false })
      .where(
        and(
          eq(conversations.isActive, true),
          lt(conversations.lastActivityAt, sql`now() - make_interval(secs => ${idleMs / 1000})`),
        ),
      )
      .returning({ id: conversations.id }),
  );
  // Counted in the database: one small row back however many conversations expire.
  const rows = await db
    .with(expired)
    .select({ count: sql<number>`count(*)::int` })
    .from(expired);
  return rows[0]?.count ?? 0;
}
