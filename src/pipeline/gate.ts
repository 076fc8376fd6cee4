/**
 * The gate: before any model call, each pending inbound message passes an ordered list of small policies. The
 * first that does not say "answer" decides: a fixed notice instead of an answer, or a skip, each with a reason
 * code (domain/outcome.ts) stored on the message. Duplicates never get here: the provider id's unique key
 * refuses a redelivery when it is accepted.
 */
import type { PendingInbound } from '../db/messages.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import type { ConsentAction } from '../domain/opt-out.js';
import type { NoticeReason, SkipReason } from '../domain/outcome.js';

export type GateDecision =
  | { kind: 'answer' }
  | { kind: 'notice'; reason: NoticeReason; text: string }
  | { kind: 'skip'; reason: SkipReason }
  /** The user asked for a person: the conversation goes to a human (pipeline/hand-off.ts does the switch). */
  | { kind: 'handoff'; keyword: string }
  /** The user opts out, opts back in or asks for help (pipeline/consent.ts records it and confirms it). */
  | { kind: 'consent'; action: ConsentAction; keyword: string };

/** What a policy may look at: the conversation as the job read it. */
export interface GateConversation {
  id: string;
  channel: string;
  userAddress: string;
  mode: ConversationMode;
  /** Since when the user asked for nothing more; null when they did not. */
  optedOutAt: Date | null;
}

export type Policy = (
  message: PendingInbound,
  conversation: GateConversation,
  now: Date,
) => GateDecision | Promise<GateDecision>;

export const ANSWER: GateDecision = { kind: 'answer' };

export interface GateResult {
  /** Messages for the model, in arrival order. */
  answer: PendingInbound[];
  notices: Array<{ message: PendingInbound; reason: NoticeReason; text: string }>;
  skips: Array<{ message: PendingInbound; reason: SkipReason }>;
  /** Messages asking for a person; when there is one, `answer` is empty (see runGate). */
  handoffs: Array<{ message: PendingInbound; keyword: string }>;
  /** Opt-outs, opt-ins and help requests, in arrival order; an opt-out leaves nothing else to answer. */
  consents: Array<{ message: PendingInbound; action: ConsentAction; keyword: string }>;
}

/**
 * Decide every message of the batch, in arrival order (a rate limit counts them in the order they came). A batch
 * in which the user asks for a person is not answered by the model at all, before or after that message: the
 * messages it would have answered are skipped as `mode_human`, since a person answers them now. Consent words
 * apply in order: what comes before the last STOP, and after it unless a START follows, is skipped as `opted_out`.
 */
export async function runGate(
  policies: readonly Policy[],
  batch: PendingInbound[],
  conversation: GateConversation,
  now: Date,
): Promise<GateResult> {
  const result: GateResult = { answer: [], notices: [], skips: [], handoffs: [], consents: [] };
  // The consent words take effect in message order: a message after STOP meets an opted-out user, and START
  // after it is the opt-in it would be in a later batch, not an ordinary "start" (pipeline/consent.ts agrees).
  let view: GateConversation = conversation;
  let lastStop = -1;
  for (const [index, message] of batch.entries()) {
    const decision = await decide(policies, message, view, now);
    if (decision.kind === 'consent' && decision.action === 'opt_out') {
      view = { ...view, optedOutAt: view.optedOutAt ?? message.createdAt };
      lastStop = index;
    } else if (decision.kind === 'consent' && decision.action === 'opt_in') {
      view = { ...view, optedOutAt: null };
    }
    switch (decision.kind) {
      case 'answer':
        result.answer.push(message);
        break;
      case 'notice':
        result.notices.push({ message, reason: decision.reason, text: decision.text });
        break;
      case 'skip':
        result.skips.push({ message, reason: decision.reason });
        break;
      case 'handoff':
        result.handoffs.push({ message, keyword: decision.keyword });
        break;
      case 'consent':
        result.consents.push({ message, action: decision.action, keyword: decision.keyword });
        break;
    }
  }
  // What the user wrote before their (last) STOP gets nothing: not an answer, a notice or a handoff. What came
  // after a later START is answered as usual.
  if (lastStop >= 0) {
    const before = new Set(batch.slice(0, lastStop).map((m) => m.id));
    const silenced = [
      ...result.answer,
      ...result.notices.map((n) => n.message),
      ...result.handoffs.map((h) => h.message),
    ].filter((m) => before.has(m.id));
    result.skips.push(...silenced.map((message) => ({ message, reason: 'opted_out' as const })));
    result.answer = result.answer.filter((m) => !before.has(m.id));
    result.notices = result.notices.filter((n) => !before.has(n.message.id));
    result.handoffs = result.handoffs.filter((h) => !before.has(h.message.id));
  }
  if (result.handoffs.length > 0) {
    result.skips.push(...result.answer.map((message) => ({ message, reason: 'mode_human' as const })));
    result.answer = [];
  }
  return result;
}

async function decide(
  policies: readonly Policy[],
  message: PendingInbound,
  conversation: GateConversation,
  now: Date,
): Promise<GateDecision> {
  for (const policy of policies) {
    const decision = await policy(message, conversation, now);
    if (decision.kind !== 'answer') return decision;
  }
  return ANSWER;
}
