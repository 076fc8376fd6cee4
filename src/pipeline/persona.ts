/**
 * Which AI configuration answers a conversation: its business number's (the number's persona) when the number
 * names one, else the active configuration, else the environment's. A conversation whose number is no longer
 * in the directory (removed or deactivated after its message was accepted) is answered with the active choice.
 */
import type { AiChoice } from '../ports.js';
import type { PipelineDeps } from './deps.js';

export async function aiChoiceFor(
  deps: Pick<PipelineDeps, 'ai' | 'numbers'>,
  conversation: { channel: string; businessAddress: string | null },
): Promise<AiChoice> {
  const { channel } = conversation;
  if (channel !== 'twilio' && channel !== 'meta') return deps.ai.current();
  // No business address ('' in the key): the channel's default number, the first of its list.
  const number =
    conversation.businessAddress === null
      ? ((await deps.numbers.list(channel))[0] ?? null)
      : await deps.numbers.find(channel, conversation.businessAddress);
  return number?.aiConfigId ? deps.ai.forConfig(number.aiConfigId) : deps.ai.current();
}
