/**
 * An operator's message to the user, from the admin's composer, the API or the CLI: stored and delivered through
 * the same outbound path as the bot's replies (split, send-once, delivery ticks), whatever the mode (it does not
 * change the mode). It restarts the idle timer of a handed-off conversation, and the model's cached context is
 * dropped so the bot, when it resumes, reads the operator's words from the database and does not contradict them.
 */
import { touchOperatorMessage } from '../db/conversations.js';
import { findMessage } from '../db/conversation-views.js';
import { storableText } from '../db/storable.js';
import { AppError } from '../domain/errors.js';
import { windowNoteOf } from '../domain/window.js';
import type { Actor } from '../domain/roles.js';
import { forgetContext } from '../pipeline/context.js';
import { sendOutbound, type SentOutbound } from '../pipeline/send-outbound.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';
import type { SwitchModeDeps } from './switch-mode.js';

export interface OperatorMessageRequest {
  conversationId: string;
  actor: Actor;
  text: string;
  /**
   * The request's idempotency key (the admin form's nonce, the API's Idempotency-Key header): the same key twice
   * stores and sends one message. Unique per actor.
   */
  requestKey: string;
}

export async function sendAsOperator(
  deps: SwitchModeDeps,
  request: OperatorMessageRequest,
): Promise<SentOutbound> {
  requirePermission(request.actor, 'conversations.reply');
  const sent = await sendOutbound(deps, {
    conversationId: request.conversationId,
    key: `operator:${request.actor.kind}:${request.actor.id ?? request.actor.name}:${request.requestKey}`,
    author: `operator:${request.actor.id ?? request.actor.kind}`,
    content: { type: 'text', text: request.text },
  });
  if (!sent.created) await refuseReusedKey(deps, request, sent.messageId);
  // Also on a replay: a first attempt that stored the message and then failed must still restart the idle timer
  // and drop the cached context (both idempotent). The audit row is written once, by the attempt that stored it.
  await touchOperatorMessage(deps.db, request.conversationId);
  await forgetContext(deps, request.conversationId);
  if (sent.created) {
    await audit(deps, {
      actor: request.actor,
      action: 'conversation.reply',
      target: { type: 'conversation', id: request.conversationId },
      details: { messageId: sent.messageId },
    });
  }
  return sent;
}

/**
 * A repeated key is a resend of the same message, or a client bug: the same key for another text (an operator who
 * fixed a typo after a failed send, with the form's old nonce) or another conversation must not report the old
 * message as sent.
 */
async function refuseReusedKey(
  deps: SwitchModeDeps,
  request: OperatorMessageRequest,
  messageId: string,
): Promise<void> {
  const stored = await findMessage(deps.db, request.conversationId, messageId);
  const text = storableText(request.text);
  // A text that went as the window template is stored as the template; its note keeps what was written.
  const note = stored ? windowNoteOf({ window: stored.windowNote }) : null;
  const written = note?.reason === 'outside_window' ? note.text : (stored?.content ?? null);
  if (!stored || (stored.content !== text && written !== text)) {
    throw new AppError('conflict', 'this request key was already used for another message', {
      code: 'idempotency_key_reused',
    });
  }
}
