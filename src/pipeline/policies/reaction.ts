import { ANSWER, type Policy } from '../gate.js';

/** A reaction (👍 on a message) is stored and shown, but answering one would be noise. */
export const reactionPolicy: Policy = (message) =>
  message.contentType === 'reaction' ? { kind: 'skip', reason: 'reaction' } : ANSWER;
