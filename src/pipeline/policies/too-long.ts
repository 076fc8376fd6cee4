import { codePointLength } from '../../domain/sanitize.js';
import { tooLongNotice } from '../../domain/user-messages.js';
import { ANSWER, type Policy } from '../gate.js';

/**
 * A message over the cap was stored cut to it, with its real length in the metadata (pipeline/accept-inbound.ts):
 * the user is asked to shorten it instead of the model reading half a message.
 */
export function tooLongPolicy(maxLength: number): Policy {
  return (message) => {
    const original = message.metadata.originalLength;
    const length = typeof original === 'number' ? original : codePointLength(message.content);
    return length > maxLength
      ? { kind: 'notice', reason: 'too_long', text: tooLongNotice(maxLength) }
      : ANSWER;
  };
}
