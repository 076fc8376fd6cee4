/**
 * Switch who answers a conversation: the one use case behind the admin's buttons, the API's
 * `POST /api/v1/conversations/{id}/mode`, the CLI, the keyword trigger, the model's handoff tool and the idle
 * timer. Entering `human` is a handoff: the user gets HANDOFF_MESSAGE once (keyed on the handoff, so a retried
 * request or job sends it once) and the operators are notified. `paused` sends and notifies nothing. Leaving
 * `human` or `paused` for `bot` forgets the cached context, so the bot reads what happened meanwhile (the
 * operator's messages, the user's) from the database.
 */
import { getConversation, switchConversationMode, type ModeSwitch } from '../db/conversations.js';
import { currentHandoff } from '../db/handoff.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { forgetContext } from '../pipeline/context.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { sendOutbound } from '../pipeline/send-outbound.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export type SwitchModeDeps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'context' | 'settings' | 'notifyHandoff'
>;

export interface SwitchModeRequest {
  conversationId: string;
  mode: ConversationMode;
  actor: Actor;
  /** Why (shown in the inbox, audited): `keyword`, `model: <the model's reason>`, `operator`, `idle`. */
  reason: string;
  /** Leave a paused conversation paused (the bot's own triggers never undo an operator's pause). */
  unlessPaused?: boolean;
}

export interface SwitchResult extends ModeSwitch {
  /**
   * When the conversation's current handoff began, whenever it is in `human` after the switch (this switch's own
   * handoff or an earlier one); null otherwise.
   */
  humanSince: Date | null;
}

export async function switchMode(deps: SwitchModeDeps, request: SwitchModeRequest): Promise<SwitchResult> {
  requirePermission(request.actor, 'conversations.mode');
  const switched = await switchConversationMode(
    deps.db,
    request.conversationId,
    request.mode,
    request.reason,
    { unlessPaused: request.unlessPaused === true },
  );
  if (!switched) throw new AppError('not_found', 'no conversation with this id');
  if (switched.previous !== switched.mode) {
    await audit(deps, {
      actor: request.actor,
      action: 'conversation.mode',
      target: { type: 'conversation', id: request.conversationId },
      details: { from: switched.previous, to: switched.mode, reason: request.reason },
    });
    if (switched.mode === 'bot') await forgetContext(deps, request.conversationId);
  }
  if (switched.mode !== 'human') return { ...switched, humanSince: null };
  // Already in `human`: announced by the switch that began this handoff, unless that run died between its two
  // statements (a crashed job retried). Announcing again under the same key finishes it, or does nothing.
  const humanSince =
    switched.handoffAt ?? (await currentHandoff(deps.db, request.conversationId))?.at ?? null;
  if (humanSince) await announceHandoff(deps, request, humanSince);
  return { ...switched, humanSince };
}

/**
 * The user is told a person will answer, once per handoff (the key is the handoff's start); the operators are told
 * with it. Safe to call again for the same handoff: that is how an interrupted one is finished.
 */
export async function announceHandoff(
  deps: SwitchModeDeps,
  request: Pick<SwitchModeRequest, 'conversationId' | 'reason' | 'actor'>,
  handoffAt: Date,
): Promise<void> {
  const { conversationId } = request;
  const sent = await sendOutbound(deps, {
    conversationId,
    key: `handoff:${conversationId}:${handoffAt.getTime()}`,
    author: 'system',
    content: { type: 'text', text: deps.settings.handoffMessage },
  }).catch((error: unknown) => {
    // An opted-out user is told nothing, but the handoff stands: operators are still notified.
    if (isAppError(error) && error.code === 'opted_out') return { created: true };
    // Outside the 24-hour window with no template (only an operator's switch can be: a keyword or the model
    // answers a fresh message): the handoff stands and the team is told; the user cannot be.
    if (isAppError(error) && error.code === 'outside_window') {
      deps.log.info({ conversationId }, 'handoff not announced: outside the 24-hour window');
      return { created: true };
    }
    throw error;
  });
  // Told with the announcement that stored the message, so a user who asks again while waiting does not page
  // the team again. (A process that dies between the two loses this notice; the inbox still lists the handoff.)
  if (!sent.created || !deps.notifyHandoff) return;
  const conversation = await getConversation(deps.db, conversationId);
  if (!conversation) return;
  deps.notifyHandoff({
    conversationId,
    profileName: conversation.profileName,
    userAddress: conversation.replyAddress,
    reason: request.reason,
    actorName: request.actor.name,
  });
}
