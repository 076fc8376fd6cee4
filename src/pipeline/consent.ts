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
  // The state before this batch's words: an opt-out dated before the first of them was an earlier STOP's (one of
  // this batch's own STOPs is dated at its arrival, by recordPendingOptOut or by a run of this job that died).
  const first = consents[0]?.message.createdAt.getTime() ?? 0;
  let optedOut = conversation.optedOutAt !== null && conversation.optedOutAt.getTime() < first;
  // The words that changed the state, applied in message order: only the last one is confirmed (see confirmChange).
  const changes: Array<{ message: PendingInbound; action: 'opt_out' | 'opt_in'; keyword: string }> = [];
  for (const { message, action, keyword } of consents) {
    step.signal.throwIfAborted();
    switch (action) {
      case 'opt_out': {
        // Opted out already (an earlier STOP, in this batch or before): nothing changes, nothing is confirmed.
        if (optedOut) {
          await markInbound(deps.db, [message.id], 'skipped', 'opted_out');
          continue;
        }
        const state = await recordOptOut(deps.db, conversation.id, {
          source: 'keyword',
          keyword,
          at: message.createdAt,
        });
        conversation.optedOutAt = state?.optedOutAt ?? message.createdAt;
        optedOut = true;
        changes.push({ message, action, keyword });
        break;
      }
      case 'opt_in':
        await liftOptOut(deps.db, conversation.id);
        conversation.optedOutAt = null;
        optedOut = false;
        changes.push({ message, action, keyword });
        break;
      case 'help':
        await confirm(deps, step, message, 'help', deps.settings.consent.helpMessage);
        break;
    }
  }
  await confirmChange(deps, step, changes);
}

/**
 * One confirmation per batch, of the state now in force, answering the word that made it. STOP then START in one
 * batch gets the opt-in's confirmation only: a "you won't receive any more messages" followed at once by "you're
 * subscribed again" tells the user nothing the second does not, and both cost a business-initiated message. The
 * words undone by a later one are closed as `consent_superseded`, so the record still shows each of them.
 */
async function confirmChange(
  deps: Deps,
  step: Step,
  changes: Array<{ message: PendingInbound; action: 'opt_out' | 'opt_in'; keyword: string }>,
): Promise<void> {
  const last = changes.at(-1);
  if (!last) return;
  const superseded = changes.slice(0, -1).map((c) => c.message.id);
  if (superseded.length > 0) await markInbound(deps.db, superseded, 'skipped', 'consent_superseded');
  const { consent } = deps.settings;
  step.log.info(
    { messageId: last.message.id, keyword: last.keyword, superseded: superseded.length },
    last.action === 'opt_out' ? 'the user opted out: nothing more is sent to them' : 'the user opted back in',
  );
  if (last.action === 'opt_out') await confirm(deps, step, last.message, 'opt_out', consent.optOutMessage);
  else await confirm(deps, step, last.message, 'opt_in', consent.optInMessage);
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
  const words = pending
    .filter((m) => m.contentType !== 'reaction')
    .map((m) => ({ message: m, found: match(userText(storedContent(m.payload, m.content).content)) }));
  const stop = words.find((w) => w.found?.action === 'opt_out');
  if (!stop?.found) return;
  // Dated at the STOP's arrival, as settleConsents dates it: the opt-out is this message's own, not an earlier one.
  const state = await recordOptOut(deps.db, conversation.id, {
    source: 'keyword',
    keyword: stop.found.keyword,
    at: stop.message.createdAt,
  });
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
