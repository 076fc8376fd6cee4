/**
 * The zero-setup model: no network, same answer for the same input. It tells the person plainly that no AI
 * provider is configured and how to configure one, and shows what it received (their last message and how many
 * earlier messages were in the context) so the rest of the pipeline can be seen working end to end.
 */
import { AppError } from '../domain/errors.js';
import type { ChatModel, ChatRequest, ChatResult } from '../ports.js';

const MAX_QUOTE_LENGTH = 200;

export function createOfflineModel(): ChatModel {
  function complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    if (signal?.aborted) {
      return Promise.reject(
        new AppError('ai_unavailable', 'offline: request cancelled by the caller', { code: 'cancelled' }),
      );
    }
    const text = offlineReply(request);
    // Not tokens: rough word counts, so usage totals are non-zero and grow with the conversation.
    const usage = {
      inputTokens: request.messages.reduce((sum, message) => sum + countWords(message.content), 0),
      outputTokens: countWords(text),
    };
    return Promise.resolve({ text, model: 'offline', usage });
  }
  return { provider: 'offline', model: 'offline', complete };
}

function offlineReply(request: ChatRequest): string {
  const { messages } = request;
  const lastUserIndex = messages.findLastIndex((message) => message.role === 'user');
  const lastUser = messages[lastUserIndex];
  const earlier = messages
    .slice(0, Math.max(0, lastUserIndex))
    .filter((message) => message.role !== 'system').length;
  const quote = lastUser
    ? `You wrote: "${shorten(lastUser.content)}"`
    : 'No message from you was in the context.';
  return [
    'No AI provider is configured on this server yet, so this is an automatic reply.',
    'To get real answers, the operator sets OPENROUTER_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY ' +
      '(or AI_BASE_URL for a local OpenAI-compatible server such as Ollama) and restarts the server.',
    '',
    quote,
    `Earlier messages in this conversation's context: ${earlier}.`,
  ].join('\n');
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUOTE_LENGTH ? `${flat.slice(0, MAX_QUOTE_LENGTH - 1)}…` : flat;
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
