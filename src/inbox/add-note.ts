/**
 * An internal note on a conversation, for the other operators. Stored apart from the messages (see
 * db/conversation-notes.ts): never sent to the user, never part of the model's context.
 */
import { insertNote, type ConversationNote } from '../db/conversation-notes.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export const MAX_NOTE_LENGTH = 5000;

export async function addNote(
  deps: Pick<PipelineDeps, 'db' | 'log'>,
  request: { conversationId: string; actor: Actor; body: string },
): Promise<ConversationNote> {
  requirePermission(request.actor, 'conversations.note');
  const body = request.body.trim();
  if (body === '') throw new AppError('invalid_input', 'a note cannot be empty');
  if (body.length > MAX_NOTE_LENGTH)
    throw new AppError('invalid_input', `a note is at most ${MAX_NOTE_LENGTH} characters`);
  const note = await insertNote(deps.db, {
    conversationId: request.conversationId,
    author: request.actor,
    body,
  });
  if (!note) throw new AppError('not_found', 'no conversation with this id');
  await audit(deps, {
    actor: request.actor,
    action: 'conversation.note',
    target: { type: 'conversation', id: request.conversationId },
    details: { noteId: note.id },
  });
  return note;
}
