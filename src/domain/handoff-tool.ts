/**
 * The built-in `handoff` tool: offered to the model on every call in a conversation the bot answers, so the model
 * can hand the conversation to a person (a complaint, a request it cannot serve, a user who asks for one in words
 * the keywords do not know). Its one argument is the reason, shown to operators.
 */
import type { ToolCall, ToolDefinition } from './types.js';

export const HANDOFF_TOOL_NAME = 'handoff';

export const HANDOFF_TOOL: ToolDefinition = {
  name: HANDOFF_TOOL_NAME,
  description:
    'Hand this conversation over to a human member of the team. Call it when the user asks to talk to a ' +
    'person, when they are upset or complaining, or when they need something you cannot do or answer ' +
    'reliably. The user is told that a person will reply; do not write an answer of your own as well.',
  parameters: {
    type: 'object',
    properties: {
      reason: {
        type: 'string',
        description: 'Why a human is needed, in a few words, for the team (the user does not see it).',
      },
    },
    required: ['reason'],
  },
};

/** Longest reason kept from the model (it is shown in the inbox and the notification, and audited). */
const MAX_REASON_LENGTH = 200;

/** The model's request to hand off, with its reason, if any of its tool calls is one. */
export function handoffRequest(toolCalls: readonly ToolCall[] | undefined): { reason: string } | null {
  const call = toolCalls?.find((c) => c.name === HANDOFF_TOOL_NAME);
  if (!call) return null;
  const given = call.arguments.reason;
  const reason = typeof given === 'string' ? given.replace(/\s+/g, ' ').trim() : '';
  return { reason: reason === '' ? 'no reason given' : reason.slice(0, MAX_REASON_LENGTH) };
}
