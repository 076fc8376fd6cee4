import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { CHANNEL_NAMES, type ChannelName } from '../domain/types.js';
import type { Db } from './connect.js';
import type { PendingInbound } from './messages.js';
import { prepared, runPrepared } from './prepared.js';
import { rowsOf } from './rows.js';
import { conversations } from './schema.js';

export interface Conversation {
  id: string;
  channel: ChannelName;
  /** The person's key on the channel (their scoped id when the channel gives one, else their address). */
  userAddress: string;
  /** Where replies go: the latest sender address exactly as the channel gave it. */
  replyAddress: string;
  /** Our address the user wrote to; replies come from it (null: the channel's default). */
  businessAddress: string | null;
  profileName: string | null;
  isActive: boolean;
  mode: ConversationMode;
  /** Turns before this are not part of the model's context. */
  contextResetAt: Date | null;
  lastActivityAt: Date;
  /** When the user last wrote (null: never): WhatsApp's 24-hour window runs from it (domain/window.ts). */
  lastInboundAt: Date | null;
}

const CONVERSATION_COLUMNS = {
  id: conversations.id,
  channel: conversations.channel,
  userAddress: conversations.userAddress,
  replyAddress: sql<string>`coalesce(${conversations.replyAddress}, ${conversations.userAddress})`,
  businessAddress: sql<string | null>`nullif(${conversations.businessAddress}, '')`,
  profileName: conversations.profileName,
  isActive: conversations.isActive,
  mode: conversations.mode,
  contextResetAt: conversations.contextResetAt,
  lastActivityAt: conversations.lastActivityAt,
  lastInboundAt: conversations.lastInboundAt,
};

export async function getConversation(db: Db, id: string): Promise<Conversation | null> {
  const rows = await db.select(CONVERSATION_COLUMNS).from(conversations).where(eq(conversations.id, id));
  const row = rows[0];
  // The CHECK constraints keep `channel` and `mode` to their union's values.
  return row ? { ...row, channel: row.channel as ChannelName, mode: row.mode as ConversationMode } : null;
}

/**
 * The conversations of a user address exactly as a channel gives it (`whatsapp:+14155550100`, a scoped id), on
 * any channel and with any of our numbers: matched against the key and the reply address, most recently active
 * first. With `businessAddress`, only the one with that number of ours.
 */
export async function findConversationsByAddress(
  db: Db,
  address: string,
  options: { businessAddress?: string } = {},
): Promise<Conversation[]> {
  const rows = await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(
      and(
        addressIs(address),
        options.businessAddress === undefined
          ? undefined
          : eq(conversations.businessAddress, options.businessAddress),
      ),
    )
    .orderBy(desc(conversations.lastActivityAt))
    .limit(MAX_MATCHES);
  const found = await Promise.all(rows.map((row) => getConversation(db, row.id)));
  return found.filter((c) => c !== null);
}

/** A person writes to a few of our numbers, not hundreds: enough to list them in a refusal. */
const MAX_MATCHES = 20;

/**
 * The conversation of `address` with our number `businessAddress` on one channel, created when the person never
 * wrote to it (a proactive message's: mode `bot`, no messages, keyed on the address). Two concurrent calls for one
 * new address get the same row: the insert yields to the unique (channel, user_address, business_address) key and
 * the loser reads the winner's row. A null business address is the channel's default ('' in the key).
 */
export async function findOrCreateConversation(
  db: Db,
  input: { channel: ChannelName; address: string; businessAddress: string | null },
): Promise<{ conversation: Conversation; created: boolean }> {
  const businessAddress = input.businessAddress ?? '';
  const onChannel = and(
    eq(conversations.channel, input.channel),
    eq(conversations.businessAddress, businessAddress),
    addressIs(input.address),
  );
  const find = async () => {
    const rows = await db
      .select({ id: conversations.id })
      .from(conversations)
      .where(onChannel)
      .orderBy(desc(conversations.lastActivityAt))
      .limit(1);
    return rows[0] ? getConversation(db, rows[0].id) : null;
  };
  const existing = await find();
  if (existing) return { conversation: existing, created: false };
  const inserted = await db
    .insert(conversations)
    .values({ channel: input.channel, userAddress: input.address, businessAddress })
    .onConflictDoNothing({
      target: [conversations.channel, conversations.userAddress, conversations.businessAddress],
    })
    .returning({ id: conversations.id });
  const conversation = inserted[0] ? await getConversation(db, inserted[0].id) : await find();
  if (!conversation) throw new Error(`conversation for ${input.address} neither inserted nor found`);
  return { conversation, created: inserted.length > 0 };
}

/** Delete a conversation that holds no message (one made for a proactive message that was refused). */
export async function deleteEmptyConversation(db: Db, id: string): Promise<void> {
  await db.execute(sql`
    delete from conversations c where c.id = ${id}
      and not exists (select 1 from messages m where m.conversation_id = c.id)`);
}

/**
 * `reply_address = $1 or user_address = $1`, written so both sides use an index: the key's index leads with the
 * channel, so the channel is named (every channel) for the planner to probe it.
 */
export function addressIs(address: string) {
  return or(
    eq(conversations.replyAddress, address),
    and(inArray(conversations.channel, [...CHANNEL_NAMES]), eq(conversations.userAddress, address)),
  );
}

export interface ConversationWork extends Conversation {
  /** A reply part of this conversation is still unsent (a crash or a transient send failure left it). */
  hasUnsentParts: boolean;
  /** Any reply was ever stored: without one there is no context to load, from the cache or the database. */
  hasReplies: boolean;
  /** When it last went to a person (kept after it returned to the bot): the context carries that period over. */
  handoffAt: Date | null;
  /** Since when the person asked for nothing more (db/opt-outs.ts); null: they did not, or opted back in. */
  optedOutAt: Date | null;
  /** Its inbound messages still pending, in arrival order: the first batch to answer. */
  pending: PendingInbound[];
}

/**
 * Everything a job starts from, in one query where asking separately would cost three round trips on every
 * job: the conversation, whether a reply part is unsent, whether it has any reply yet, and the pending batch.
 */
export async function conversationForWork(db: Db, id: string): Promise<ConversationWork | null> {
  const rows = await runPrepared(db, CONVERSATION_FOR_WORK, [id]);
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.id,
    // The CHECK constraint keeps `channel` to the ChannelName values.
    channel: first.channel as ChannelName,
    userAddress: first.userAddress,
    replyAddress: first.replyAddress,
    businessAddress: first.businessAddress,
    profileName: first.profileName,
    isActive: first.isActive,
    mode: first.mode as ConversationMode,
    contextResetAt: first.contextResetAt,
    lastActivityAt: first.lastActivityAt,
    lastInboundAt: first.lastInboundAt,
    hasUnsentParts: first.hasUnsentParts,
    hasReplies: first.hasReplies,
    handoffAt: first.handoffAt,
    optedOutAt: first.optedOutAt,
    pending: rows.flatMap((r) =>
      r.messageId === null
        ? []
        : [
            {
              id: r.messageId,
              content: r.content ?? '',
              contentType: r.contentType ?? 'text',
              payload: r.payload,
              attempts: r.attempts ?? 0,
              metadata: r.metadata ?? {},
              providerMessageId: r.providerMessageId,
              createdAt: r.createdAt ?? new Date(0),
            },
          ],
    ),
  };
}

type WorkRow = Omit<Conversation, 'channel' | 'mode'> & {
  channel: string;
  mode: string;
  hasUnsentParts: boolean;
  hasReplies: boolean;
  handoffAt: Date | null;
  optedOutAt: Date | null;
  messageId: string | null;
  content: string | null;
  contentType: string | null;
  payload: Record<string, unknown> | null;
  attempts: number | null;
  metadata: Record<string, unknown> | null;
  providerMessageId: string | null;
  createdAt: Date | null;
};

// Runs once per job: prepared (see prepared.ts). One row per pending message, or one with no message.
const CONVERSATION_FOR_WORK = prepared<WorkRow>(
  'conversation_for_work',
  `with c as (
     select c.*,
       exists (select 1 from deliveries as part
         where part.conversation_id = c.id and part.status in ('pending', 'sending')) as has_unsent_parts,
       exists (select 1 from messages as reply
         where reply.conversation_id = c.id and reply.role = 'assistant') as has_replies,
       (select min(o.opted_out_at) from opt_outs as o where o.channel = c.channel
         and o.address in (c.user_address, coalesce(c.reply_address, c.user_address))) as opted_out_at
     from conversations c where c.id = $1
   )
   select c.id, c.channel, c.user_address as "userAddress",
     coalesce(c.reply_address, c.user_address) as "replyAddress",
     nullif(c.business_address, '') as "businessAddress",
     c.profile_name as "profileName", c.is_active as "isActive", c.mode,
     c.context_reset_at as "contextResetAt", c.last_activity_at as "lastActivityAt",
     c.last_inbound_at as "lastInboundAt", c.has_unsent_parts as "hasUnsentParts", c.has_replies as "hasReplies",
     c.handoff_at as "handoffAt", c.opted_out_at as "optedOutAt",
     m.id as "messageId", m.content, m.content_type as "contentType", m.payload, m.attempts, m.metadata, m.provider_message_id as "providerMessageId",
     m.created_at as "createdAt"
   from c
   left join messages m on m.conversation_id = c.id and m.role = 'user' and m.processing_status = 'pending'
   order by m.created_at, m.id`,
);

export interface ModeSwitch {
  /** The mode before this switch. */
  previous: ConversationMode;
  mode: ConversationMode;
  /** Set when this switch put the conversation in `human` (it was not before): the handoff's identity. */
  handoffAt: Date | null;
  /** Unsent parts of the bot's (and, when paused, the system's) messages this switch cancelled. */
  cancelledParts: number;
}

/**
 * Switch who answers the conversation, in one statement that also reports the mode it had (row-locked, so two
 * concurrent switches see each other's result). Entering `human` stamps handoff_at and the reason; null when there
 * is no such conversation.
 *
 * Leaving `bot` also cancels what the bot stored but has not started sending (a reply whose send was waiting for
 * a retry): a person who took over must not be talked over by an answer the model gave before. `paused` cancels
 * the system's notices too (a handoff message not yet out); an operator's own messages always go. A part already
 * `sending` may be at the channel and is left to finish.
 *
 * `unlessPaused`: leave a paused conversation as it is (the bot's own triggers never undo an operator's pause;
 * checked on the locked row, so a pause made a moment before wins).
 */
export async function switchConversationMode(
  db: Db,
  id: string,
  mode: ConversationMode,
  reason: string | null,
  options: { unlessPaused?: boolean } = {},
): Promise<ModeSwitch | null> {
  const guard = options.unlessPaused === true;
  const result = await db.execute(sql`
    with old as (select id, mode from conversations where id = ${id} for update),
    target as (
      select id, mode as previous,
        case when ${guard} and mode = 'paused' then mode else ${mode} end as mode
      from old
    ),
    switched as (
      update conversations c set
        mode = target.mode,
        handoff_at = case when target.mode = 'human' and target.previous <> 'human' then now() else c.handoff_at end,
        handoff_reason = case when target.mode = 'human' and target.previous <> 'human' then ${reason}
          else c.handoff_reason end,
        updated_at = now()
      from target where c.id = target.id
      returning target.previous, target.mode,
        case when target.mode = 'human' and target.previous <> 'human' then c.handoff_at end as handoff_at
    ),
    cancelled as (
      update deliveries d set status = 'canceled', error_code = 'mode_' || switched.mode,
        error_message = 'not sent: the conversation left the bot (' || switched.mode || ') before it went out',
        updated_at = now()
      from switched, messages m
      where switched.mode <> 'bot' and d.conversation_id = ${id} and d.status = 'pending'
        and m.id = d.message_id
        and (coalesce(m.author, 'assistant') = 'assistant' or (switched.mode = 'paused' and m.author = 'system'))
      returning d.id
    )
    select previous, mode, handoff_at, (select count(*)::int from cancelled) as cancelled from switched`);
  const row = rowsOf<{ previous: string; mode: string; handoff_at: Date | string | null; cancelled: number }>(
    result,
  )[0];
  if (!row) return null;
  const handoffAt = row.handoff_at === null ? null : new Date(row.handoff_at);
  return {
    previous: row.previous as ConversationMode,
    mode: row.mode as ConversationMode,
    handoffAt,
    cancelledParts: row.cancelled,
  };
}

/** An operator wrote to the user: the idle timer that hands the conversation back to the bot starts again. */
export async function touchOperatorMessage(db: Db, id: string): Promise<void> {
  await db
    .update(conversations)
    .set({ lastOperatorMessageAt: sql`now()` })
    .where(eq(conversations.id, id));
}

/** Switch who answers the conversation (bot, human, paused). False if there is no such conversation. */
export async function setConversationMode(db: Db, id: string, mode: ConversationMode): Promise<boolean> {
  const rows = await db
    .update(conversations)
    .set({ mode })
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

/** The conversation's mode as it is now (another process may have switched it since the job read it). */
export async function conversationMode(db: Db, id: string): Promise<ConversationMode | null> {
  const rows = await db
    .select({ mode: conversations.mode })
    .from(conversations)
    .where(eq(conversations.id, id));
  const mode = rows[0]?.mode;
  // The CHECK constraint keeps `mode` to the ConversationMode values.
  return mode === undefined ? null : (mode as ConversationMode);
}
