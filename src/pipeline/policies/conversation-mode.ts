import { ANSWER, type Policy } from '../gate.js';

/** In `human` an operator answers and in `paused` nobody does: the bot stays silent in both. */
export const conversationModePolicy: Policy = (_message, conversation) => {
  switch (conversation.mode) {
    case 'bot':
      return ANSWER;
    case 'human':
      return { kind: 'skip', reason: 'mode_human' };
    case 'paused':
      return { kind: 'skip', reason: 'mode_paused' };
  }
};
