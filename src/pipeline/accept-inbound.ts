import { acceptInbound as storeInbound } from '../db/messages.js';
import type { WebhookLogInput } from '../db/webhook-logs.js';
import { AppError } from '../domain/errors.js';
import type { InboundMessage } from '../domain/types.js';
import type { PipelineDeps } from './deps.js';

export interface Accepted {
  conversationId: string;
  messageId: string;
  duplicate: boolean;
  /** False when the queue was unreachable: the message is stored and the scheduler will enqueue it. */
  queued: boolean;
}

/**
 * The webhook's work: persist first (the row is the truth), then point the queue at it. A redelivery of the
 * same provider id is acknowledged and does nothing else. If the database is down we fail, so the channel
 * may retry; if only the queue is down we still succeed, because the message is safe in the database.
 */
export async function acceptInbound(
  deps: Pick<PipelineDeps, 'db' | 'queue' | 'log'>,
  message: InboundMessage,
  webhookLog: WebhookLogInput | undefined,
  requestId: string,
): Promise<Accepted> {
  let stored: Awaited<ReturnType<typeof storeInbound>>;
  try {
    stored = await storeInbound(deps.db, message, webhookLog);
  } catch (error) {
    throw new AppError('database_unavailable', 'could not store the inbound message', { cause: error });
  }
  if (stored.duplicate) return { ...stored, queued: false };
  try {
    await deps.queue.enqueue({ conversationId: stored.conversationId, messageId: stored.messageId, requestId });
    return { ...stored, queued: true };
  } catch (error) {
    deps.log.error(
      { err: error, messageId: stored.messageId, requestId },
      'queue unavailable: message stored, the scheduler will enqueue it when the queue is back',
    );
    return { ...stored, queued: false };
  }
}
