/**
 * Assign a conversation to an operator (or unassign it): the inbox's "mine" and "unassigned" filters read it.
 * Shared by the admin and the API.
 */
import { assignConversation, type Assignment } from '../db/inbox.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export interface AssignRequest {
  conversationId: string;
  actor: Actor;
  /** The admin account to assign; null unassigns. */
  assigneeId: string | null;
}

export async function assign(
  deps: Pick<PipelineDeps, 'db' | 'log'>,
  request: AssignRequest,
): Promise<Assignment> {
  requirePermission(request.actor, 'conversations.assign');
  const assigned = await assignConversation(deps.db, request.conversationId, request.assigneeId);
  if (assigned === null) throw new AppError('not_found', 'no conversation with this id');
  if (assigned === 'invalid')
    throw new AppError('invalid_input', 'a conversation can only be assigned to an agent or admin account');
  if (assigned.previousId !== assigned.assigneeId) {
    await audit(deps, {
      actor: request.actor,
      action: 'conversation.assign',
      target: { type: 'conversation', id: request.conversationId },
      details: { from: assigned.previousId, to: assigned.assigneeId, toName: assigned.assigneeName },
    });
  }
  return assigned;
}
