import { tooLongNotice } from '../../domain/user-messages.js';
import { ANSWER, type Policy } from '../gate.js';

/**
 * A message whose own text (a text, a caption) was over the cap was stored cut to it, with its real length in the
 * metadata (pipeline/accept-inbound.ts): the user is asked to shorten it instead of the model reading half a
 * message. Our own rendering around it (a quote, a forwarded note) does not count.
 */
export function tooLongPolicy(maxLength: number): Policy {
  return (message) => {
    const original = message.metadata.originalLength;
    return typeof original === 'number' && original > maxLength
      ? { kind: 'notice', reason: 'too_long', text: tooLongNotice(maxLength) }
      : ANSWER;
  };
}
