import { acceptInbound as storeInbound, saveReply } from '../db/messages.js';
import { asDatabaseError } from '../db/sqlstate.js';
import { codePointLength, truncate } from '../domain/sanitize.js';
import type { InboundMessage } from '../domain/types.js';
import { rateLimitedNotice, tooLongNotice } from '../domain/user-messages.js';
import type { PipelineDeps } from './deps.js';

export interface Accepted {
  conversationId: string;
  messageId: string;
  duplicate: boolean;
  /** False when the queue was unreachable: the message is stored, and queued by this process when it is back. */
  queued: boolean;
  /** Why the message goes to no model, when it does not. */
  refused?: 'too_long' | 'rate_limited';
}

type Deps = Pick<PipelineDeps, 'db' | 'queue' | 'limiter' | 'locks' | 'log' | 'settings' | 'unqueued'>;

/**
 * The webhook's work: persist first (the row is the truth), then point the queue at it. A redelivery of the
 * same provider id is acknowledged and does nothing else. If the database is down we fail, so the channel
 * may retry; if only the queue is down we still succeed, because the message is safe in the database.
 * A message over the length cap, or from a user over the rate limit, is stored but never reaches the model:
 * the user gets a short notice instead (for the rate limit, one per window, not one per message).
 */
export async function acceptInbound(
  deps: Deps,
  message: InboundMessage,
  requestId: string,
): Promise<Accepted> {
  const length = codePointLength(message.body);
  // Decided before storing, so the row is never visible to a worker as pending when it must not be answered.
  const refused: Accepted['refused'] =
    length > deps.settings.maxMessageLength
      ? 'too_long'
      : (await withinRateLimit(deps, message))
        ? undefined
        : 'rate_limited';
  const notice =
    refused === 'too_long' || (refused === 'rate_limited' && (await firstNoticeInWindow(deps, message)));
  const stored = await persist(
    deps,
    refused
      ? {
          ...message,
          body: truncate(message.body, deps.settings.maxMessageLength),
          metadata: {
            ...message.metadata,
            refused,
            ...(refused === 'too_long' ? { originalLength: length } : {}),
          },
        }
      : message,
    refused ? (notice ? 'answered' : 'skipped') : 'pending',
  );
  if (stored.duplicate) return { ...stored, queued: false };
  if (refused) {
    deps.log.warn(
      { conversationId: stored.conversationId, requestId, refused },
      'message not sent to the model',
    );
    if (!notice) return { ...stored, queued: false, refused };
    const text = refused === 'too_long' ? tooLongNotice(deps.settings.maxMessageLength) : rateLimitedNotice();
    await notify(deps, stored, message, text, refused);
  }
  const queued = await enqueue(deps, stored, requestId, refused ? 0 : deps.settings.burstWindowMs);
  return { ...stored, queued, ...(refused ? { refused } : {}) };
}

/** One rate-limit notice per user per window, however many messages they send in it. */
async function firstNoticeInWindow(deps: Deps, message: InboundMessage): Promise<boolean> {
  const windowMs = deps.settings.rateLimitWindowSeconds * 1000;
  return deps.locks.claimOnce(`rate-notice:${message.channel}:${message.from}`, windowMs).catch(() => true);
}

async function persist(deps: Deps, message: InboundMessage, status: 'pending' | 'answered' | 'skipped') {
  try {
    return await storeInbound(deps.db, message, status);
  } catch (error) {
    throw asDatabaseError(error, 'could not store the inbound message');
  }
}

/** Counted per sender, atomically across processes. If the limiter is down we let the message through. */
async function withinRateLimit(deps: Deps, message: InboundMessage): Promise<boolean> {
  try {
    const decision = await deps.limiter.hit(
      `user:${message.channel}:${message.from}`,
      deps.settings.rateLimitMax,
      deps.settings.rateLimitWindowSeconds,
    );
    return decision.allowed;
  } catch (error) {
    deps.log.warn({ err: error }, 'rate limiter unavailable; message let through');
    return true;
  }
}

/** Store a fixed reply to this message; the worker sends it like any other reply. */
async function notify(
  deps: Deps,
  stored: { conversationId: string; messageId: string },
  message: InboundMessage,
  text: string,
  kind: string,
): Promise<void> {
  await saveReply(deps.db, {
    conversationId: stored.conversationId,
    answeredIds: [stored.messageId],
    content: text,
    parts: [text],
    to: message.from,
    from: message.to || null,
    model: null,
    provider: null,
    usage: null,
    latencyMs: null,
    errorKind: kind,
  });
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
