/**
 * What the simulator page reads back from the database: its conversations and each one's thread, so a reload
 * shows the history exactly as the pipeline stored it (parts and their delivery states included).
 */
import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { conversations, deliveries, messages } from './schema.js';
import { storedContent } from '../domain/content-payload.js';
import { displayOf, type MessageDisplay } from '../domain/display-content.js';

/** The newest messages of a thread the page shows; older ones stay in the database. */
const THREAD_LIMIT = 200;
const CONVERSATION_LIMIT = 100;

export interface ThreadPart {
  providerMessageId: string;
  partIndex: number;
  partCount: number;
  body: string;
  status: string;
  /** A part that carried a file (a voice answer): what the page shows of it. */
  display?: MessageDisplay;
}

export interface ThreadMessage {
  id: string;
  role: string;
  content: string;
  createdAt: Date;
  /** User messages: pending, answered, skipped or failed. */
  processingStatus: string | null;
  /** Assistant messages: the parts the channel took, in order (parts not yet sent are left out). */
  parts?: ThreadPart[];
  /** User messages: what the page shows of the content (a location, a button reply, …; text for old rows). */
  display?: MessageDisplay;
}

export interface Thread {
  conversation: { id: string; address: string; profileName: string | null } | null;
  messages: ThreadMessage[];
}

export interface ConversationSummary {
  id: string;
  address: string;
  profileName: string | null;
  lastActivityAt: Date;
  lastMessage: string | null;
}

/** The simulator conversation of `userAddress` (`whatsapp:+E164`), oldest message first. */
export async function simulatorThread(db: Db, userAddress: string): Promise<Thread> {
  const found = await db
    .select({
      id: conversations.id,
      address: conversations.userAddress,
      profileName: conversations.profileName,
    })
    .from(conversations)
    .where(and(eq(conversations.channel, 'simulator'), eq(conversations.userAddress, userAddress)));
  const conversation = found[0];
  if (!conversation) return { conversation: null, messages: [] };

  const newestFirst = await db
    .select({
      id: messages.id,
      role: messages.role,
      content: messages.content,
      createdAt: messages.createdAt,
      processingStatus: messages.processingStatus,
      payload: messages.payload,
    })
    .from(messages)
    .where(eq(messages.conversationId, conversation.id))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(THREAD_LIMIT);
  const thread: ThreadMessage[] = newestFirst.reverse().map(({ payload, ...message }) => {
    if (message.role !== 'user') return message;
    const { content, context } = storedContent(payload, message.content);
    return { ...message, display: displayOf(content, context) };
  });

  const replyIds = thread.filter((message) => message.role === 'assistant').map((message) => message.id);
  const parts =
    replyIds.length === 0
      ? []
      : await db
          .select({
            messageId: deliveries.messageId,
            providerMessageId: deliveries.providerMessageId,
            partIndex: deliveries.partIndex,
            partCount: deliveries.partCount,
            body: deliveries.body,
            status: deliveries.status,
            payload: deliveries.payload,
          })
          .from(deliveries)
          .where(and(inArray(deliveries.messageId, replyIds), isNotNull(deliveries.providerMessageId)))
          .orderBy(asc(deliveries.partIndex));
  for (const message of thread) {
    if (message.role !== 'assistant') continue;
    message.parts = parts
      .filter((part) => part.messageId === message.id)
      .map(({ messageId: _, providerMessageId, payload, ...part }) => {
        const { content } = storedContent({ content: payload }, part.body);
        return {
          ...part,
          providerMessageId: providerMessageId ?? '',
          ...(content.type === 'media' ? { display: displayOf(content, {}) } : {}),
        };
      });
  }
  return { conversation, messages: thread };
}

/** Every simulator conversation, most recently active first, with its last message for the sidebar. */
export async function simulatorConversations(db: Db): Promise<ConversationSummary[]> {
  // Written with an alias and qualified names: drizzle renders columns inside a `sql` template unqualified, so
  // `${conversations.id}` here would read as the subquery's own messages.id.
  const lastMessage = sql<string | null>`(
    select m.content from messages as m
    where m.conversation_id = "conversations"."id"
    order by m.created_at desc, m.id desc
    limit 1)`;
  return db
    .select({
      id: conversations.id,
      address: conversations.userAddress,
      profileName: conversations.profileName,
      lastActivityAt: conversations.lastActivityAt,
      lastMessage,
    })
    .from(conversations)
    .where(eq(conversations.channel, 'simulator'))
    .orderBy(desc(conversations.lastActivityAt))
    .limit(CONVERSATION_LIMIT);
}
