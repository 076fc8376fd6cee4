/**
 * A message the provider reported as outside WhatsApp's 24-hour window (Twilio 63016, late in a status callback
 * or at once when sending) is followed by the channel's window template, once: the template is keyed on the
 * failed message (`window-fallback:<message id>`), so every part's callback, a callback repeated, and the sender
 * noticing the same failure all store one message. A template's own failure is never followed (no loop).
 */
import { getConversation } from '../db/conversations.js';
import { failedOutbound } from '../db/window-failures.js';
import { isWindowFailure } from '../domain/window.js';
import type { PipelineDeps } from './deps.js';
import { sendOutbound } from './send-outbound.js';

export type WindowFallbackDeps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'settings' | 'report'
>;

/**
 * Follow a failed part of an outbound message: nothing unless its code says "outside the window", the message
 * is not itself a template, and its channel has a window template. Never throws: the failure is recorded
 * already, and a fallback that could not be stored is logged and reported, not retried in a loop.
 */
export async function followWindowFailure(
  deps: WindowFallbackDeps,
  failure: { errorCode: string | null } & ({ providerMessageId: string } | { messageId: string }),
): Promise<void> {
  if (!isWindowFailure(failure.errorCode)) return;
  try {
    const failed = await failedOutbound(deps.db, failure);
    if (!failed || failed.contentType === 'template') return;
    const conversation = await getConversation(deps.db, failed.conversationId);
    const template = conversation && deps.settings.windowTemplates[conversation.channel];
    if (!template) return;
    const sent = await sendOutbound(deps, {
      conversationId: failed.conversationId,
      key: `window-fallback:${failed.messageId}`,
      author: 'system',
      content: template,
      windowNote: {
        reason: 'window_failure',
        failedMessageId: failed.messageId,
        errorCode: failure.errorCode ?? '',
      },
    });
    if (sent.created)
      deps.log.info(
        { failedMessageId: failed.messageId, messageId: sent.messageId, errorCode: failure.errorCode },
        'outside the window: the window template follows the failed message',
      );
  } catch (error) {
    deps.log.error({ err: error, errorCode: failure.errorCode }, 'the window template could not be stored');
    deps.report?.(error, { stage: 'window_fallback', errorCode: failure.errorCode });
  }
}
