/**
 * The inbox's reads and the assignment: conversations waiting for a human (oldest first, through
 * conversations_human_idx), one conversation's handoff facts, who may be assigned, and the assignment itself.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export type InboxFilter = 'all' | 'mine' | 'unassigned';

export interface InboxItem {
  id: string;
  channel: string;
  userAddress: string;
  profileName: string | null;
  handoffAt: Date;
  handoffReason: string | null;
  assigneeId: string | null;
  assigneeName: string | null;
  lastMessage: string | null;
  lastRole: string | null;
  lastAuthor: string | null;
  lastPayload: unknown;
  lastMessageAt: Date | null;
}

/** More than this many waiting is a page of its oldest; the inbox says how many more there are. */
export const INBOX_LIMIT = 100;

/**
 * Conversations in `human`, oldest handoff first, with their last message. The partial index holds only human
 * conversations, ordered as shown, so the page reads `limit` index entries whatever the table's size; the
 * filters are checked on those rows.
 */
export async function needsHuman(
  db: Db,
  query: { filter: InboxFilter; userId: string; limit?: number },
): Promise<{ items: InboxItem[]; total: number }> {
  const limit = query.limit ?? INBOX_LIMIT;
  const filter: SQL =
    query.filter === 'mine'
      ? sql`c.assignee_id = ${query.userId}`
      : query.filter === 'unassigned'
        ? sql`c.assignee_id is null`
        : sql`true`;
  const [result, countResult] = await Promise.all([
    db.execute(sql`
      select c.id, c.channel, c.user_address, c.profile_name, coalesce(c.handoff_at, c.updated_at) as handoff_at,
        c.handoff_reason, c.assignee_id, u.username as assignee_name,
        last.content as last_message, last.role as last_role, last.author as last_author,
        last.payload as last_payload, last.created_at as last_message_at
      from (
        select * from conversations c where c.mode = 'human' and ${filter}
        order by c.handoff_at, c.id limit ${limit}
      ) c
      left join admin_users u on u.id = c.assignee_id
      left join lateral (
        select content, role, author, payload, created_at from messages m where m.conversation_id = c.id
        order by m.created_at desc, m.id desc limit 1
      ) last on true
      order by c.handoff_at, c.id`),
    db.execute(sql`select count(*)::int as total from conversations c where c.mode = 'human' and ${filter}`),
  ]);
  const items = rowsOf<{
    id: string;
    channel: string;
    user_address: string;
    profile_name: string | null;
    handoff_at: Date | string;
    handoff_reason: string | null;
    assignee_id: string | null;
    assignee_name: string | null;
    last_message: string | null;
    last_role: string | null;
    last_author: string | null;
    last_payload: unknown;
    last_message_at: Date | string | null;
  }>(result).map((r) => ({
    id: r.id,
    channel: r.channel,
    userAddress: r.user_address,
    profileName: r.profile_name,
    handoffAt: new Date(r.handoff_at),
    handoffReason: r.handoff_reason,
    assigneeId: r.assignee_id,
    assigneeName: r.assignee_name,
    lastMessage: r.last_message,
    lastRole: r.last_role,
    lastAuthor: r.last_author,
    lastPayload: r.last_payload,
    lastMessageAt: r.last_message_at === null ? null : new Date(r.last_message_at),
  }));
  return { items, total: rowsOf<{ total: number }>(countResult)[0]?.total ?? 0 };
}

export interface HandoffFacts {
  assigneeId: string | null;
  assigneeName: string | null;
  handoffAt: Date | null;
  handoffReason: string | null;
  lastOperatorMessageAt: Date | null;
}

/** The inbox columns of one conversation (the conversation page's sidebar); null when there is none. */
export async function handoffFacts(db: Db, conversationId: string): Promise<HandoffFacts | null> {
  const result = await db.execute(sql`
    select c.assignee_id, u.username as assignee_name, c.handoff_at, c.handoff_reason, c.last_operator_message_at
    from conversations c left join admin_users u on u.id = c.assignee_id where c.id = ${conversationId}`);
  const row = rowsOf<{
    assignee_id: string | null;
    assignee_name: string | null;
    handoff_at: Date | string | null;
    handoff_reason: string | null;
    last_operator_message_at: Date | string | null;
  }>(result)[0];
  if (!row) return null;
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    assigneeId: row.assignee_id,
    assigneeName: row.assignee_name,
    handoffAt: date(row.handoff_at),
    handoffReason: row.handoff_reason,
    lastOperatorMessageAt: date(row.last_operator_message_at),
  };
}

export interface Operator {
  id: string;
  username: string;
  role: string;
}

/** Accounts a conversation may be assigned to: those that can reply (not viewers), by name. */
export async function assignableOperators(db: Db): Promise<Operator[]> {
  const result = await db.execute(
    sql`select id, username, role from admin_users where role <> 'viewer' order by username`,
  );
  return rowsOf<Operator>(result);
}

export interface Assignment {
  previousId: string | null;
  assigneeId: string | null;
  assigneeName: string | null;
}

/**
 * Assign the conversation to an account (null: unassign), reporting the previous assignee from the same
 * row-locked statement. Null when the conversation does not exist; `invalid` when the account does not exist or
 * is a viewer.
 */
export async function assignConversation(
  db: Db,
  conversationId: string,
  assigneeId: string | null,
): Promise<Assignment | 'invalid' | null> {
  if (assigneeId !== null) {
    const found = await db.execute(
      sql`select username from admin_users where id = ${assigneeId} and role <> 'viewer'`,
    );
    if (rowsOf(found).length === 0) return 'invalid';
  }
  const result = await db.execute(sql`
    with old as (select id, assignee_id from conversations where id = ${conversationId} for update)
    update conversations c set assignee_id = ${assigneeId}, updated_at = now()
    from old where c.id = old.id
    returning old.assignee_id as previous_id, c.assignee_id,
      (select username from admin_users where id = c.assignee_id) as assignee_name`);
  const row = rowsOf<{
    previous_id: string | null;
    assignee_id: string | null;
    assignee_name: string | null;
  }>(result)[0];
  return row
    ? { previousId: row.previous_id, assigneeId: row.assignee_id, assigneeName: row.assignee_name }
    : null;
}
