/**
 * The bot's side of a handoff: the user asked for a person (HANDOFF_KEYWORDS) or the model called its `handoff`
 * tool. The conversation switches to `human` through the operators' own use case (audited, HANDOFF_MESSAGE once,
 * operators notified), then the messages are closed with an outcome an operator can read. The switch comes first:
 * a job that dies between the two leaves the messages pending in a `human` conversation, and its retry closes them
 * without asking the model (the gate's keyword policy finishes the handoff; the mode policy skips the rest).
 */
import { markInbound, recordModelCalls, type ModelCallRecord, type PendingInbound } from '../db/messages.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { currentHandoff } from '../db/handoff.js';
import { announceHandoff, switchMode, type SwitchModeDeps } from '../inbox/switch-mode.js';
import type { Logger } from '../log.js';
import type { PipelineDeps } from './deps.js';

export type HandOffDeps = SwitchModeDeps & Pick<PipelineDeps, 'db'>;

/** The model, as the audit log and the inbox name who switched the conversation. */
export const MODEL_ACTOR: Actor = { ...SYSTEM_ACTOR, name: 'model' };

/** The job's view of the conversation (its mode is updated to what the switch left) and its logger. */
interface Target {
  conversation: { id: string; mode: ConversationMode };
  log: Logger;
}

/**
 * Switch to `human` unless an operator paused the conversation since the job read it (a pause is an operator's
 * decision that a handoff must not undo). Returns when the handoff the conversation is now in began: null when it
 * was paused, or is in `human` without a recorded start (switched by code older than the handoff columns).
 */
async function toHuman(
  deps: HandOffDeps,
  target: Target,
  actor: Actor,
  reason: string,
): Promise<{ paused: boolean; since: Date | null }> {
  const switched = await switchMode(deps, {
    conversationId: target.conversation.id,
    mode: 'human',
    actor,
    reason,
    unlessPaused: true,
  });
  target.conversation.mode = switched.mode;
  return { paused: switched.mode === 'paused', since: switched.humanSince };
}

/**
 * Messages that asked for a person. Each is closed as `handoff_requested` (a notice: HANDOFF_MESSAGE went out)
 * when the handoff the conversation is in began after it arrived, i.e. the handoff answers it; a message written
 * to a person who already had the conversation asks for nothing new and is skipped as `mode_human`.
 */
export async function handOffOnKeyword(
  deps: HandOffDeps,
  target: Target,
  messages: Array<{ message: PendingInbound; keyword: string }>,
): Promise<void> {
  const { paused, since } = await toHuman(deps, target, SYSTEM_ACTOR, 'keyword');
  if (paused) return; // the next round's gate skips them with the mode's reason
  const answers = ({ message }: { message: PendingInbound }) =>
    since !== null && message.createdAt.getTime() <= since.getTime();
  const answered = messages.filter(answers);
  const late = messages.filter((m) => !answers(m));
  await markInbound(
    deps.db,
    answered.map(({ message }) => message.id),
    'notice',
    'handoff_requested',
  );
  await markInbound(
    deps.db,
    late.map(({ message }) => message.id),
    'skipped',
    'mode_human',
  );
  if (answered.length > 0)
    target.log.info(
      { keywords: [...new Set(answered.map((m) => m.keyword))], count: answered.length },
      'the user asked for a person: conversation handed to a human',
    );
}

/**
 * The model called `handoff`. Its text, if it wrote one too, is not sent: the user gets HANDOFF_MESSAGE, and a
 * second voice ("let me transfer you…", or worse an answer) would only contradict the person taking over. The call
 * is recorded; the batch is closed as `handoff_by_model`. False when the conversation was paused meanwhile (the
 * caller lets the gate close the batch).
 */
export async function handOffByModel(
  deps: HandOffDeps,
  target: Target,
  batch: PendingInbound[],
  reason: string,
  calls: ModelCallRecord[],
): Promise<boolean> {
  const { paused } = await toHuman(deps, target, MODEL_ACTOR, `model: ${reason}`);
  if (paused) for (const call of calls) if (call.outcome === 'used') call.outcome = 'discarded';
  await recordModelCalls(deps.db, target.conversation.id, batch.at(-1)?.id ?? null, calls);
  if (paused) return false;
  await markInbound(
    deps.db,
    batch.map((m) => m.id),
    'notice',
    'handoff_by_model',
  );
  target.log.info({ reason, count: batch.length }, 'the model handed the conversation to a human');
  return true;
}

/**
 * Messages skipped because the conversation is in `human`: if that handoff began while they were pending (a retry
 * after a job, or a web request, died between the switch and its announcement), the announcement is made now,
 * under the handoff's own key, so it goes once whoever finishes it. A handoff older than the messages costs one
 * primary-key read here and nothing else.
 */
export async function finishInterruptedHandoff(
  deps: HandOffDeps,
  conversationId: string,
  skipped: PendingInbound[],
): Promise<void> {
  const oldest = Math.min(...skipped.map((m) => m.createdAt.getTime()));
  const handoff = await currentHandoff(deps.db, conversationId);
  if (!handoff || handoff.at.getTime() < oldest) return;
  await announceHandoff(deps, { conversationId, reason: handoff.reason, actor: SYSTEM_ACTOR }, handoff.at);
}
