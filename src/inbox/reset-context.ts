/**
 * Forget the model's context of a conversation from now on (the messages stay): what the bot says next changes,
 * so it is an admin's permission and audited.
 */
import { resetContext as resetStoredContext } from '../db/conversations.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export async function resetContext(
  deps: Pick<PipelineDeps, 'db' | 'log' | 'context'>,
  request: { conversationId: string; actor: Actor },
): Promise<void> {
  requirePermission(request.actor, 'conversations.reset');
  if (!(await resetStoredContext(deps.db, request.conversationId)))
    throw new AppError('not_found', 'no conversation with this id');
  // The cached window would otherwise keep feeding the old turns to the model until it expires.
  await deps.context.clear(request.conversationId);
  await audit(deps, {
    actor: request.actor,
    action: 'conversation.reset',
    target: { type: 'conversation', id: request.conversationId },
  });
}
