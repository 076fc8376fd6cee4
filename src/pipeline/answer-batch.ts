/**
 * One step of a conversation's job, as named stages: deliver what is unsent → gate the pending batch → context →
 * generate → store → deliver. Every inbound message leaves it with an outcome: answered, a notice, skipped, or
 * still pending for the next step (a burst not over yet).
 */
import { conversationMode, type ConversationWork } from '../db/conversations.js';
import {
  markInbound,
  pendingInbound,
  recordModelCalls,
  saveReplyInBotMode,
  saveReplyUnlessNewer,
  type PendingInbound,
  type SavedReply,
} from '../db/messages.js';
import { AppError } from '../domain/errors.js';
import { splitReply } from '../domain/split.js';
import type { Turn } from '../domain/types.js';
import type { Channel, JobContext } from '../ports.js';
import { loadContext, rememberTurns, withQuotedText } from './context.js';
import type { PipelineDeps } from './deps.js';
import { runGate, type GateResult, type Policy } from './gate.js';
import { FailedCalls, generateAnswer, type Answer } from './generate.js';
import { recordPendingOptOut, settleConsents } from './consent.js';
import { finishInterruptedHandoff, handOffByModel, handOffOnKeyword } from './hand-off.js';
import { sendParts, sendUnsentParts } from './send-parts.js';
import { acknowledgeBatch } from './acknowledge.js';
import { understandMedia, withExtras, type TurnExtras } from './understand-media.js';
import { answerWithVoice } from './voice-answer.js';

/** Messages that keep arriving while we answer are folded in, but not forever. */
export const MAX_FOLDS = 3;

export type Deps = Pick<
  PipelineDeps,
  | 'db'
  | 'locks'
  | 'context'
  | 'ai'
  | 'numbers'
  | 'limiter'
  | 'log'
  | 'settings'
  | 'report'
  // A handoff switches the mode and stores HANDOFF_MESSAGE through the outbound path (inbox/switch-mode.ts).
  | 'queue'
  | 'channelFor'
  | 'unqueued'
  | 'notifyHandoff'
  // The daily spend caps and the price of every call (pipeline/spend-cap.ts, pricing.ts).
  | 'pricing'
  | 'alertSpend'
> &
  // Absent only in pipeline tests that are not about media: their messages' media are then left as they came.
  Partial<Pick<PipelineDeps, 'media' | 'transcriber' | 'speech' | 'mediaLinks'>>;

export interface Step {
  conversation: ConversationWork;
  channel: Channel;
  policies: readonly Policy[];
  jobContext: JobContext;
  signal: AbortSignal;
  log: Deps['log'];
}

/** The user is still typing: answer once the burst is over (quiet for the window, or the maximum wait). */
export class BurstNotOver extends Error {
  readonly waitMs: number;
  constructor(waitMs: number) {
    super('burst not over');
    this.waitMs = waitMs;
  }
}

/**
 * 'idle' when there was nothing to do, 'answered' when a model's reply was stored and sent, 'worked' for anything
 * else done (unsent parts flushed, notices, skips).
 */
export async function answerBatch(
  deps: Deps,
  step: Step,
  mayHaveUnsent: boolean,
  prefetched: PendingInbound[] | undefined,
): Promise<'idle' | 'answered' | 'worked'> {
  const { conversation, channel, log } = step;
  // A STOP waiting in the batch is recorded before anything unsent goes out: the delivery guard then holds it back.
  if (mayHaveUnsent && prefetched) await recordPendingOptOut(deps, conversation, prefetched);
  if (mayHaveUnsent && (await sendUnsentParts(deps, conversation.id, channel, log, step.signal)))
    return 'worked';

  const pending = prefetched ?? (await pendingInbound(deps.db, conversation.id));
  if (pending.length === 0) return 'idle';
  const wait = burstWaitMs(pending, deps.settings, Date.now());
  if (wait > 0) throw new BurstNotOver(wait);

  // What goes with each message to the model in this turn only (a document's text, photos), by message id.
  const extras = new Map<string, TurnExtras>();
  let gated = await admit(deps, step, pending, extras);
  if (await settleRefused(deps, step, gated)) return 'worked';
  let batch = gated.answer;
  // The read receipt and "typing…" go out beside the model call; awaited before the answer is sent.
  let acknowledged = acknowledgeBatch(channel, conversation.businessAddress, batch, log);

  const history = await loadContext(deps, conversation);
  const ask = async (messages: PendingInbound[]) =>
    generateAnswer(
      deps,
      conversation,
      history,
      (await withQuotedText(deps, conversation.id, messages)).map((m) => withExtras(m, extras.get(m.id))),
      step.jobContext,
      step.signal,
      log,
    );
  let answer = await ask(batch);
  const calls = [...answer.calls];
  let saved: SavedReply | 'newer';
  // Messages that arrived while the model was thinking are folded in, so the user gets one coherent answer. The
  // store refuses while there are any (a check inside the same statement), at most MAX_FOLDS times.
  for (let fold = 0; ; fold++) {
    step.signal.throwIfAborted();
    if (answer.handoff) {
      // The model handed the conversation over: no reply is stored; newer messages, if any, meet a `human` gate.
      await handOffByModel(deps, step, batch, answer.handoff.reason, calls);
      return 'worked';
    }
    const reply = replyInput(conversation, channel, batch, answer, calls);
    // Sent right after: the first part is stored already claimed for sending (one statement fewer). Stored only
    // while the conversation is still the bot's: a human who took over meanwhile is never answered over.
    const options = { claimFirstPart: true, onlyInBotMode: true };
    saved =
      fold < MAX_FOLDS
        ? await saveReplyUnlessNewer(deps.db, reply, options)
        : await saveReplyInBotMode(deps.db, reply, options);
    if (saved !== 'newer') break;
    const [newer, mode] = await Promise.all([
      pendingInbound(deps.db, conversation.id),
      conversationMode(deps.db, conversation.id),
    ]);
    if (mode !== null) conversation.mode = mode;
    log.info(
      { before: batch.length, after: newer.length },
      'newer messages arrived; folding them into the answer',
    );
    // The discarded answer's call stays on the record; the new messages pass the gate like the first ones.
    for (const call of calls) if (call.outcome === 'used') call.outcome = 'discarded';
    gated = await admit(deps, step, newer, extras);
    if (await settleRefused(deps, step, gated)) {
      // Nothing is left to answer (the conversation went to a human meanwhile, say): the calls made stay on record.
      await recordModelCalls(deps.db, conversation.id, batch.at(-1)?.id ?? null, calls);
      return 'worked';
    }
    // What arrived was closed by the gate (a reaction, say): the answer still fits the same messages.
    if (sameIds(gated.answer, batch)) {
      const used = calls.at(-1);
      if (used) used.outcome = 'used';
      continue;
    }
    const newestBefore = batch.at(-1)?.id;
    batch = gated.answer;
    if (batch.at(-1)?.id !== newestBefore) {
      const earlier = acknowledged;
      const newer = acknowledgeBatch(channel, conversation.businessAddress, batch, log);
      acknowledged = Promise.all([earlier, newer]).then(() => undefined);
    }
    try {
      answer = await ask(batch);
    } catch (error) {
      // The discarded answers were paid for too: they go on record with the failure that ends this attempt.
      if (error instanceof FailedCalls) throw new FailedCalls(error, [...calls, ...error.calls]);
      throw error;
    }
    calls.push(...answer.calls);
  }
  await acknowledged;
  const turns: Turn[] = [
    ...batch.map((m) => ({ id: m.id, role: 'user' as const, content: m.content, at: m.createdAt.getTime() })),
    { id: saved.replyId, role: 'assistant', content: answer.text, at: Date.now() },
  ];
  // A notice (no_vision) is not part of the conversation the model continues, as sessionTurns reads it back.
  if (!answer.notice) await rememberTurns(deps, conversation.id, turns);
  log.info(
    { replyId: saved.replyId, model: answer.model, latencyMs: answer.latencyMs, ...answer.usage },
    answer.errorKind ? 'stored a fallback reply' : 'stored the reply',
  );
  if (!saved.created) {
    // A retried job whose reply was stored the first time: its parts are in the database, maybe half sent.
    await sendUnsentParts(deps, conversation.id, channel, log, step.signal);
    return 'worked';
  }
  await sendParts(deps, saved.parts, channel, log, step.signal);
  await answerWithVoice(deps, step, batch, saved.replyId, answer.errorKind ? '' : answer.text);
  return 'answered';
}

/**
 * The gate, then the understand stage on what it lets through: media are downloaded, transcribed and read only for
 * messages the model will answer. A message of which nothing could be understood joins the gate's notices.
 */
async function admit(
  deps: Deps,
  step: Step,
  pending: PendingInbound[],
  extras: Map<string, TurnExtras>,
): Promise<GateResult> {
  const gated = await runGate(step.policies, pending, step.conversation, new Date());
  const { media, transcriber } = deps;
  if (!media || gated.answer.length === 0) return gated;
  const understood = await understandMedia(
    { ...deps, media, transcriber: transcriber ?? null },
    step,
    gated.answer,
  );
  for (const [id, extra] of understood.extras) extras.set(id, extra);
  return { ...gated, answer: understood.answer, notices: [...gated.notices, ...understood.notices] };
}

/**
 * Close what the gate refused: skips are marked with their reason, notices stored (each in the one statement that
 * also closes its message) and sent. True when nothing is left for the model.
 */
async function settleRefused(deps: Deps, step: Step, gated: GateResult): Promise<boolean> {
  // The user's opt-out, opt-in or help request, before a handoff can announce anything.
  if (gated.consents.length > 0) await settleConsents(deps, step, gated.consents);
  // First, so that the notices below find the conversation in `human` and are not sent.
  if (gated.handoffs.length > 0) {
    step.signal.throwIfAborted();
    await handOffOnKeyword(deps, step, gated.handoffs);
  }
  const byReason = new Map<string, string[]>();
  for (const { message, reason } of gated.skips)
    byReason.set(reason, [...(byReason.get(reason) ?? []), message.id]);
  for (const [reason, ids] of byReason) {
    await markInbound(deps.db, ids, 'skipped', reason);
    step.log.info({ count: ids.length, reason }, 'messages not answered');
  }
  const toHuman = gated.skips.filter((s) => s.reason === 'mode_human').map((s) => s.message);
  if (gated.handoffs.length === 0 && toHuman.length > 0)
    await finishInterruptedHandoff(deps, step.conversation.id, toHuman);
  for (const { message, reason, text } of gated.notices) {
    step.signal.throwIfAborted();
    const saved = await saveReplyInBotMode(deps.db, {
      conversationId: step.conversation.id,
      answeredIds: [message.id],
      content: text,
      parts: [text],
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
    if (saved === 'newer') {
      // A human took over since the gate looked (or another worker closed the message): no notice from the bot.
      const mode = await conversationMode(deps.db, step.conversation.id);
      if (mode !== null && mode !== 'bot') {
        step.conversation.mode = mode;
        await markInbound(deps.db, [message.id], 'skipped', mode === 'human' ? 'mode_human' : 'mode_paused');
      }
      continue;
    }
    step.log.warn({ messageId: message.id, reason }, 'message answered with a notice, not sent to the model');
    await sendParts(deps, saved.parts, step.channel, step.log, step.signal);
  }
  return gated.answer.length === 0;
}

function replyInput(
  conversation: ConversationWork,
  channel: Channel,
  batch: PendingInbound[],
  answer: Answer,
  calls: Answer['calls'],
) {
  const parts = splitReply(answer.text, channel.maxBodyLength);
  if (batch.length === 0) throw new AppError('internal', 'a reply must answer at least one message');
  return {
    conversationId: conversation.id,
    answeredIds: batch.map((m) => m.id),
    content: answer.text,
    parts: parts.length > 0 ? parts : [answer.text],
    to: conversation.replyAddress,
    from: conversation.businessAddress,
    model: answer.model,
    provider: answer.provider,
    usage: answer.usage,
    latencyMs: answer.latencyMs,
    errorKind: answer.errorKind,
    modelCalls: calls,
    // A fixed notice instead of a model's answer: the operator reads why next to the messages.
    ...(answer.notice
      ? { author: 'system' as const, outcome: { status: 'notice' as const, reason: answer.notice } }
      : {}),
  };
}

function sameIds(a: PendingInbound[], b: PendingInbound[]): boolean {
  return a.length === b.length && a.every((m, i) => m.id === b[i]?.id);
}

export function burstWaitMs(
  batch: Array<{ createdAt: Date }>,
  settings: { burstWindowMs: number; burstMaxWaitMs: number },
  now: number,
): number {
  const first = batch[0];
  const last = batch.at(-1);
  if (!first || !last || settings.burstWindowMs <= 0) return 0;
  const quietFor = now - last.createdAt.getTime();
  const waitedFor = now - first.createdAt.getTime();
  if (waitedFor >= settings.burstMaxWaitMs) return 0;
  return Math.max(0, Math.min(settings.burstWindowMs - quietFor, settings.burstMaxWaitMs - waitedFor));
}
