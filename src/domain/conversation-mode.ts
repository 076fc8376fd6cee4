/** Who answers a conversation: the bot, a human operator (the bot is silent), or nobody (paused). */
export const CONVERSATION_MODES = ['bot', 'human', 'paused'] as const;

export type ConversationMode = (typeof CONVERSATION_MODES)[number];

export function isConversationMode(value: unknown): value is ConversationMode {
  return typeof value === 'string' && (CONVERSATION_MODES as readonly string[]).includes(value);
}
