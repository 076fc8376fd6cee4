/**
 * The gate: before any model call, each pending inbound message passes an ordered list of small policies. The
 * first that does not say "answer" decides: a fixed notice instead of an answer, or a skip, each with a reason
 * code (domain/outcome.ts) stored on the message. Duplicates never get here: the provider id's unique key
 * refuses a redelivery when it is accepted.
 */
import type { PendingInbound } from '../db/messages.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import type { NoticeReason, SkipReason } from '../domain/outcome.js';

export type GateDecision =
  | { kind: 'answer' }
  | { kind: 'notice'; reason: NoticeReason; text: string }
  | { kind: 'skip'; reason: SkipReason }
  /** The user asked for a person: the conversation goes to a human (pipeline/hand-off.ts does the switch). */
  | { kind: 'handoff'; keyword: string };

/** What a policy may look at: the conversation as the job read it. */
export interface GateConversation {
  id: string;
  channel: string;
  userAddress: string;
  mode: ConversationMode;
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
}

/**
 * Decide every message of the batch, in arrival order (a rate limit counts them in the order they came). A batch
 * in which the user asks for a person is not answered by the model at all, before or after that message: the
 * messages it would have answered are skipped as `mode_human`, since a person answers them now.
 */
export async function runGate(
  policies: readonly Policy[],
  batch: PendingInbound[],
  conversation: GateConversation,
  now: Date,
): Promise<GateResult> {
  const result: GateResult = { answer: [], notices: [], skips: [], handoffs: [] };
  for (const message of batch) {
    const decision = await decide(policies, message, conversation, now);
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
    }
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
