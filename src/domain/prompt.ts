import type { ChatImage, ChatMessage, Turn } from './types.js';

export interface PromptInput {
  systemPrompt: string;
  /** The session's earlier turns, oldest first. */
  history: Turn[];
  /** The user's new messages, in arrival order; a quick burst is answered in one call. */
  batch: Array<{ content: string; images?: ChatImage[] }>;
}

/** The messages sent to the model: system prompt, the session so far, then every new user message in order. */
export function buildPrompt({ systemPrompt, history, batch }: PromptInput): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (systemPrompt.trim().length > 0) messages.push({ role: 'system', content: systemPrompt });
  for (const turn of history) messages.push({ role: turn.role, content: turn.content });
  for (const message of batch)
    messages.push(
      message.images && message.images.length > 0
        ? { role: 'user', content: message.content, images: message.images }
        : { role: 'user', content: message.content },
    );
  return messages;
}
