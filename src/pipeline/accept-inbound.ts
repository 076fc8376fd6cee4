import { acceptInbound as storeInbound } from '../db/messages.js';
import { asDatabaseError } from '../db/sqlstate.js';
import { renderForModel } from '../domain/render-content.js';
import { codePointLength } from '../domain/sanitize.js';
import { userText, withUserTextCut } from '../domain/user-text.js';
import type { InboundMessage } from '../domain/types.js';
import type { PipelineDeps } from './deps.js';

export interface Accepted {
  conversationId: string;
  messageId: string;
  duplicate: boolean;
  /** False when the queue was unreachable: the message is stored, and queued by this process when it is back. */
  queued: boolean;
}

type Deps = Pick<PipelineDeps, 'db' | 'queue' | 'log' | 'settings' | 'unqueued'>;

/**
 * The webhook's work: persist first (the row is the truth), then point the queue at it. A redelivery of the
 * same provider id is acknowledged and does nothing else: the unique provider id is the first policy of the
 * gate, decided by the database before anything is counted. If the database is down we fail, so the channel
 * may retry; if only the queue is down we still succeed, because the message is safe in the database.
 * Every other decision (too long, rate limit, conversation mode, …) is the worker's gate (pipeline/gate.ts), in
 * arrival order, with the conversation in hand.
 */
export async function acceptInbound(
  deps: Deps,
  message: InboundMessage,
  requestId: string,
): Promise<Accepted> {
  const stored = await persist(deps, boundedBody(message, deps.settings.maxMessageLength));
  if (stored.duplicate) return { ...stored, queued: false };
  const queued = await enqueue(deps, stored, requestId, deps.settings.burstWindowMs);
  return { ...stored, queued };
}

/**
 * A message whose own text (a text, a caption) is over the length cap is stored cut to the cap, with its real
 * length in the metadata: the gate answers it with a notice, and nobody needs the rest of it stored.
 */
function boundedBody(message: InboundMessage, maxLength: number): InboundMessage {
  const length = codePointLength(userText(message.content));
  if (length <= maxLength) return message;
  const content = withUserTextCut(message.content, maxLength);
  return {
    ...message,
    content,
    body: renderForModel(content, message.context),
    metadata: { ...message.metadata, originalLength: length },
  };
}

async function persist(deps: Deps, message: InboundMessage) {
  try {
    return await storeInbound(deps.db, message);
  } catch (error) {
    throw asDatabaseError(error, 'could not store the inbound message');
  }
}

async function enqueue(
  deps: Deps,
  stored: { conversationId: string; messageId: string },
  requestId: string,
  delayMs: number,
): Promise<boolean> {
  const job = { conversationId: stored.conversationId, messageId: stored.messageId, requestId };
  try {
    await deps.queue.enqueue(job, { delayMs, fresh: true });
    return true;
  } catch (error) {
    deps.unqueued.add(job);
    deps.log.error(
      { err: error, messageId: stored.messageId, requestId },
      'queue unavailable: message stored, queued by this process as soon as the queue is back',
    );
    return false;
  }
}
