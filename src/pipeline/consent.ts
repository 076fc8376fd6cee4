/**
 * What the gate's consent policy decided, carried out: an opt-out is recorded (both of the person's addresses) and
 * confirmed once, an opt-in lifts it and is confirmed, a help request is answered. Each confirmation is a notice
 * stored in the one statement that closes the message it answers (keyed `reply:<message id>`, so a retried job
 * never sends it twice) and sent at once, in every mode: the user's say over their messages is not an operator's
 * to pause. Confirmations are the only messages sent to an opted-out user: the delivery guard (db/deliveries.ts)
 * lets nothing else through while the opt-out stands.
 */
import { markInbound, saveReply, type PendingInbound } from '../db/messages.js';
import { liftOptOut, recordOptOut } from '../db/opt-outs.js';
import { consentMatcher, type ConsentAction } from '../domain/opt-out.js';
import { storedContent } from '../domain/content-payload.js';
import type { NoticeReason } from '../domain/outcome.js';
import { splitReply } from '../domain/split.js';
import { userText } from '../domain/user-text.js';
import type { Step, Deps } from './answer-batch.js';
import { sendParts } from './send-parts.js';

export async function settleConsents(
  deps: Deps,
  step: Step,
  consents: Array<{ message: PendingInbound; action: ConsentAction; keyword: string }>,
): Promise<void> {
  const { conversation } = step;
  for (const { message, action, keyword } of consents) {
    step.signal.throwIfAborted();
    switch (action) {
      case 'opt_out': {
        const state = await recordOptOut(deps.db, conversation.id, { source: 'keyword', keyword });
        conversation.optedOutAt = state?.optedOutAt ?? new Date();
        // Opted out before this message arrived: a second STOP gets nothing, not a second confirmation.
        if (state && state.optedOutAt.getTime() < message.createdAt.getTime()) {
          await markInbound(deps.db, [message.id], 'skipped', 'opted_out');
          continue;
        }
        step.log.info({ messageId: message.id, keyword }, 'the user opted out: nothing more is sent to them');
        await confirm(deps, step, message, 'opt_out', deps.settings.consent.optOutMessage);
        break;
      }
      case 'opt_in':
        await liftOptOut(deps.db, conversation.id);
        conversation.optedOutAt = null;
        step.log.info({ messageId: message.id, keyword }, 'the user opted back in');
        await confirm(deps, step, message, 'opt_in', deps.settings.consent.optInMessage);
        break;
      case 'help':
        await confirm(deps, step, message, 'help', deps.settings.consent.helpMessage);
        break;
    }
  }
}

/**
 * Record, before anything unsent is delivered, an opt-out the pending messages ask for: a reply stored before
 * the user's STOP, or a broadcast queued earlier, then meets the delivery guard instead of reaching the user. The
 * gate confirms it afterwards as usual (the opt-out is dated after the message, so it is this message's own).
 */
export async function recordPendingOptOut(
  deps: Pick<Deps, 'db' | 'settings'>,
  conversation: Step['conversation'],
  pending: PendingInbound[],
): Promise<void> {
  if (conversation.optedOutAt !== null || pending.length === 0) return;
  const match = consentMatcher(deps.settings.consent);
  const stop = pending
    .filter((m) => m.contentType !== 'reaction')
    .map((m) => match(userText(storedContent(m.payload, m.content).content)))
    .find((found) => found?.action === 'opt_out');
  if (!stop) return;
  const state = await recordOptOut(deps.db, conversation.id, { source: 'keyword', keyword: stop.keyword });
  conversation.optedOutAt = state?.optedOutAt ?? null;
}

async function confirm(
  deps: Deps,
  step: Step,
  message: PendingInbound,
  reason: NoticeReason,
  text: string,
): Promise<void> {
  const parts = splitReply(text, step.channel.maxBodyLength);
  const saved = await saveReply(deps.db, {
    conversationId: step.conversation.id,
    answeredIds: [message.id],
    content: text,
    parts: parts.length > 0 ? parts : [text],
    to: step.conversation.replyAddress,
    from: step.conversation.businessAddress,
    model: null,
    provider: null,
    usage: null,
    latencyMs: null,
    errorKind: null,
    author: 'system',
    outcome: { status: 'notice', reason },
  });
  // Stored by an earlier run of this job: the deliver stage sends what it left unsent.
  if (saved.created) await sendParts(deps, saved.parts, step.channel, step.log, step.signal);
}
