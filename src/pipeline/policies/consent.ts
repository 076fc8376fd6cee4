import { storedContent } from '../../domain/content-payload.js';
import { consentMatcher, type ConsentSettings } from '../../domain/opt-out.js';
import { userText } from '../../domain/user-text.js';
import { ANSWER, type Policy } from '../gate.js';

/**
 * The user's say over what we send them, before anything else and in every mode: a whole-message opt-out word
 * (STOP) is always honoured; an opt-in word (START, YES) lifts an opt-out and is an ordinary message otherwise
 * ("yes" to the bot's question); a help word gets HELP_MESSAGE. While the user is opted out, every other message
 * is stored but not answered (`opted_out`): no model call, nothing sent.
 */
export function consentPolicy(settings: ConsentSettings): Policy {
  const match = consentMatcher(settings);
  return (message, conversation) => {
    // A reaction's rendering quotes the message reacted to, not the user's words.
    const found =
      message.contentType === 'reaction'
        ? null
        : match(userText(storedContent(message.payload, message.content).content));
    if (found && (found.action !== 'opt_in' || conversation.optedOutAt !== null))
      return { kind: 'consent', action: found.action, keyword: found.keyword };
    return conversation.optedOutAt === null ? ANSWER : { kind: 'skip', reason: 'opted_out' };
  };
}
