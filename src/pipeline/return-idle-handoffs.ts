/**
 * HANDOFF_IDLE_MINUTES: a conversation handed to a human that no operator has written in for that long (counted
 * from the later of the handoff and the operator's last message) goes back to the bot, so a user is not left
 * talking to nobody. Run by the scheduler's sweep, a bounded batch per round (a backlog is worked off over a few
 * rounds); each return is audited as the system's, and the conversation's cached context is forgotten so the bot
 * rebuilds it from the database with the human period in it.
 */
import { returnIdleHandoffsToBot } from '../db/handoff.js';
import { SYSTEM_ACTOR } from '../domain/roles.js';
import { audit } from '../inbox/audit.js';
import { forgetContext } from './context.js';
import type { PipelineDeps } from './deps.js';

/** Conversations returned per sweep round at most. */
export const IDLE_RETURN_BATCH = 200;

export async function returnIdleHandoffs(
  deps: Pick<PipelineDeps, 'db' | 'context' | 'log'>,
  idleMs: number,
): Promise<number> {
  if (idleMs <= 0) return 0;
  const returned = await returnIdleHandoffsToBot(deps.db, idleMs, IDLE_RETURN_BATCH);
  for (const { conversationId, handoffAt } of returned) {
    await forgetContext(deps, conversationId);
    await audit(deps, {
      actor: SYSTEM_ACTOR,
      action: 'conversation.mode',
      target: { type: 'conversation', id: conversationId },
      details: { from: 'human', to: 'bot', reason: 'idle', handoffAt: handoffAt.toISOString() },
    });
  }
  if (returned.length > 0)
    deps.log.info({ count: returned.length, idleMs }, 'idle handed-off conversations returned to the bot');
  return returned.length;
}
