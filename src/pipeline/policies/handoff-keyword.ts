import { storedContent } from '../../domain/content-payload.js';
import { handoffKeywordMatcher } from '../../domain/handoff-keywords.js';
import { userText } from '../../domain/user-text.js';
import { ANSWER, type Policy } from '../gate.js';

/**
 * A message with one of HANDOFF_KEYWORDS in the user's own words (a text, a caption: not a quote or a reaction's
 * rendering of someone else's text) hands the conversation to a person. Asked in `human` mode too: there it changes
 * nothing but finishes a handoff whose job died after the switch (the announcement is keyed on the handoff, so it
 * goes once), and the message is closed by when it arrived (see pipeline/hand-off.ts). In `paused`, nobody answers
 * and nothing is sent: the mode policy decides.
 */
export function handoffKeywordPolicy(keywords: readonly string[]): Policy {
  const match = handoffKeywordMatcher(keywords);
  return (message, conversation) => {
    // A reaction's row may predate typed payloads: its rendering quotes the message reacted to, not the user.
    if (conversation.mode === 'paused' || message.contentType === 'reaction') return ANSWER;
    const keyword = match(userText(storedContent(message.payload, message.content).content));
    return keyword === null ? ANSWER : { kind: 'handoff', keyword };
  };
}
