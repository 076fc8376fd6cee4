/**
 * Internal notes on a conversation: operators' remarks for each other. They live in their own table, which the
 * context builder and the outbound path never read, so a note cannot reach the user or the model.
 */
import { asc, eq } from 'drizzle-orm';
import type { Actor } from '../domain/roles.js';
import type { Db } from './connect.js';
import { conversationNotes } from './schema.js';
import { sqlState } from './sqlstate.js';
import { storableText } from './storable.js';

export interface ConversationNote {
  id: string;
  conversationId: string;
  authorKind: string;
  authorId: string | null;
  authorName: string;
  body: string;
  createdAt: Date;
}

/** Store a note by `author`; null when the conversation does not exist (its foreign key refuses the row). */
export async function insertNote(
  db: Db,
  input: { conversationId: string; author: Actor; body: string },
): Promise<ConversationNote | null> {
  try {
    const rows = await db
      .insert(conversationNotes)
      .values({
        conversationId: input.conversationId,
        authorKind: input.author.kind,
        authorId: input.author.id,
        authorName: storableText(input.author.name),
        body: storableText(input.body),
      })
      .returning();
    return rows[0] ?? null;
  } catch (error) {
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) return null;
    throw error;
  }
}

const FOREIGN_KEY_VIOLATION = '23503';

/** A conversation's notes, oldest first. */
export async function listNotes(db: Db, conversationId: string): Promise<ConversationNote[]> {
  return db
    .select()
    .from(conversationNotes)
    .where(eq(conversationNotes.conversationId, conversationId))
    .orderBy(asc(conversationNotes.createdAt), asc(conversationNotes.id));
}
