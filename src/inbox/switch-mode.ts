/**
 * Switch who answers a conversation: the one use case behind the admin's buttons, the API's
 * `POST /api/v1/conversations/{id}/mode`, the CLI, the keyword trigger, the model's handoff tool and the idle
 * timer. Entering `human` is a handoff: the user gets HANDOFF_MESSAGE once (keyed on the handoff, so a retried
 * request or job sends it once) and the operators are notified. `paused` sends and notifies nothing.
 */
import { switchConversationMode, type ModeSwitch } from '../db/conversations.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { sendOutbound } from '../pipeline/send-outbound.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export type SwitchModeDeps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'context' | 'settings'
>;

export interface SwitchModeRequest {
  conversationId: string;
  mode: ConversationMode;
  actor: Actor;
  /** Why (shown in the inbox, audited): `keyword`, `model: <the model's reason>`, `operator`, `idle`. */
  reason: string;
}

export async function switchMode(deps: SwitchModeDeps, request: SwitchModeRequest): Promise<ModeSwitch> {
  requirePermission(request.actor, 'conversations.mode');
  const switched = await switchConversationMode(
    deps.db,
    request.conversationId,
    request.mode,
    request.reason,
  );
  if (!switched) throw new AppError('not_found', 'no conversation with this id');
  if (switched.previous !== switched.mode) {
    await audit(deps, {
      actor: request.actor,
      action: 'conversation.mode',
      target: { type: 'conversation', id: request.conversationId },
      details: { from: switched.previous, to: switched.mode, reason: request.reason },
    });
  }
  if (switched.handoffAt) await announceHandoff(deps, request.conversationId, switched.handoffAt);
  return switched;
}

/** The user is told a person will answer, once per handoff. */
async function announceHandoff(deps: SwitchModeDeps, conversationId: string, handoffAt: Date): Promise<void> {
  await sendOutbound(deps, {
    conversationId,
    key: `handoff:${conversationId}:${handoffAt.getTime()}`,
    author: 'system',
    content: { type: 'text', text: deps.settings.handoffMessage },
  });
}
