/** Who answers a conversation: the bot, a human operator (the bot is silent), or nobody (paused). */
export const CONVERSATION_MODES = ['bot', 'human', 'paused'] as const;

export type ConversationMode = (typeof CONVERSATION_MODES)[number];
