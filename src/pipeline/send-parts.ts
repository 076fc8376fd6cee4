import {
  claimDeliverySending,
  recordSendFailure,
  recordSent,
  unsentDeliveries,
  type Delivery,
} from '../db/messages.js';
import { recordOptOut } from '../db/opt-outs.js';
import { isFailedStatus } from '../domain/delivery.js';
import { AppError, isAppError, SEND_UNCONFIRMED } from '../domain/errors.js';
import type { Channel } from '../ports.js';
import { followWindowFailure, type WindowFallbackDeps } from './window-fallback.js';

/** A part that failed this many times for transient reasons is given up (the record keeps the last error). */
export const MAX_SEND_ATTEMPTS = 10;

// The queue and the channels too: a part found outside the window is followed by the window template.
type Deps = WindowFallbackDeps;

/**
 * A part another worker claimed for sending less than a lock TTL ago: its send may still be on its way (a slow
 * API call), so nobody asks the channel or sends it again until the TTL has passed.
 */
export class PartInFlight extends Error {
  readonly waitMs: number;
  constructor(waitMs: number) {
    super('a part is being sent by another worker');
    this.waitMs = waitMs;
  }
}

/**
 * Send every stored part that has not reached the channel, in order. Returns true if there was any.
 * A part left in 'sending' means a worker died during the API call: we ask the channel whether it got the
 * message before sending again, so a crash never makes the user read the same part twice.
 * A transient failure throws (the queue retries the job); a permanent one is recorded and the part skipped.
 */
export async function sendUnsentParts(
  deps: Deps,
  conversationId: string,
  channel: Channel,
  log: Deps['log'],
  signal?: AbortSignal,
): Promise<boolean> {
  const parts = await unsentDeliveries(deps.db, conversationId);
  await sendParts(deps, parts, channel, log, signal);
  return parts.length > 0;
}

/** Twilio's "Attempt to send to unsubscribed recipient": the user opted out with the provider. */
const UNSUBSCRIBED = '21610';

/**
 * Send the given unsent parts in order (the same rules as sendUnsentParts, without asking the database). A part
 * of a user who is opted out (a reply stored just before their STOP was handled, a broadcast queued earlier, an
 * operator's message stored as the opt-out was recorded) is never sent unless it answers their consent word: it
 * is marked failed with code `opted_out`. So are the parts after a provider's 21610.
 */
export async function sendParts(
  deps: Deps,
  parts: Delivery[],
  channel: Channel,
  log: Deps['log'],
  signal?: AbortSignal,
): Promise<void> {
  let unsubscribed = false;
  for (const part of parts) {
    // After a lost lock or at shutdown nothing more is sent: whoever owns the conversation now sends the rest.
    signal?.throwIfAborted();
    if (part.status === 'sending' && !part.claimed) {
      const inFlightMs = Date.now() - (part.sendingStartedAt?.getTime() ?? 0);
      const ttlMs = deps.settings.conversationLockTtlMs;
      if (!part.attemptEnded && inFlightMs < ttlMs) throw new PartInFlight(ttlMs - inFlightMs);
      if (await alreadyDelivered(deps, channel, part, log)) continue;
    }
    if (part.optedOutSince === true || unsubscribed) {
      await recordSendFailure(deps.db, part.id, {
        code: 'opted_out',
        message: 'not sent: the user opted out',
        permanent: true,
      });
      log.info({ deliveryId: part.id }, 'outbound part withheld: the user opted out');
      continue;
    }
    if (part.attempts >= MAX_SEND_ATTEMPTS) {
      await recordSendFailure(deps.db, part.id, {
        code: null,
        message: 'gave up after repeated failures',
        permanent: true,
      });
      log.error({ deliveryId: part.id }, 'outbound part given up after repeated transient failures');
      continue;
    }
    if (!part.claimed) await claimDeliverySending(deps.db, part.id);
    try {
      const result = await channel.send({
        to: part.to,
        ...(part.from ? { from: part.from } : {}),
        body: part.body,
        // Meta echoes it in its status webhooks: how a send whose answer was lost is found (findSent).
        partId: part.id,
        ...(part.content.type === 'text' ? {} : { content: part.content }),
        ...(deps.settings.statusCallbackUrl ? { statusCallbackUrl: deps.settings.statusCallbackUrl } : {}),
      });
      const sent = await recordSent(deps.db, part.id, result.providerMessageId, result.status);
      // A callback that beat the API's answer may have failed the part already: a 63016 (the window) is followed
      // by the template; a 21610 (the user unsubscribed; the web could not match it to a part yet) records the
      // opt-out here and withholds the rest, as a refusal at send does.
      if (isFailedStatus(sent.status) && sent.errorCode === UNSUBSCRIBED) {
        await recordOptOut(deps.db, part.conversationId, { source: 'provider:21610' });
        unsubscribed = true;
        log.warn({ deliveryId: part.id }, 'a 21610 callback beat the send: opt-out recorded');
        continue;
      }
      if (isFailedStatus(sent.status))
        await followWindowFailure(deps, { messageId: part.messageId, errorCode: sent.errorCode });
      log.info(
        {
          deliveryId: part.id,
          providerMessageId: result.providerMessageId,
          part: part.partIndex + 1,
          of: part.partCount,
        },
        'reply sent',
      );
    } catch (caught) {
      const error = isAppError(caught)
        ? caught
        : new AppError('channel_unavailable', 'sending failed unexpectedly', { cause: caught });
      await recordSendFailure(deps.db, part.id, {
        code: error.code ?? null,
        message: error.message,
        permanent: !error.retryable,
        ambiguous: !error.notSent,
      });
      if (error.retryable) throw error;
      if (error.code === UNSUBSCRIBED) {
        // The user's own choice, not a fault to alert about: recorded as an opt-out, the rest is withheld.
        await recordOptOut(deps.db, part.conversationId, { source: 'provider:21610' });
        unsubscribed = true;
        log.warn(
          { deliveryId: part.id },
          'the provider says the user unsubscribed (21610): opt-out recorded',
        );
        continue;
      }
      log.error(
        { err: error, deliveryId: part.id, code: error.code },
        'the channel refused the reply for good',
      );
      deps.report?.(error, { stage: 'send', deliveryId: part.id, code: error.code });
      await followWindowFailure(deps, { messageId: part.messageId, errorCode: error.code ?? null });
    }
  }
}

async function alreadyDelivered(
  deps: Deps,
  channel: Channel,
  part: Delivery,
  log: Deps['log'],
): Promise<boolean> {
  let found;
  try {
    found = await channel.findSent({
      to: part.to,
      ...(part.from ? { from: part.from } : {}),
      body: part.body,
      sentAfter: part.sendingStartedAt ?? new Date(0),
      partId: part.id,
      ...(part.content.type === 'template' ? { template: true } : {}),
    });
  } catch (error) {
    // The channel cannot tell yet (Meta: no status has named the part): wait and ask again, without sending and
    // without spending one of the job's attempts, which would run out long before the channel's grace period.
    if (isAppError(error) && error.code === SEND_UNCONFIRMED)
      throw new PartInFlight((error.retryAfterSeconds ?? 5) * 1000);
    throw error;
  }
  if (!found) return false;
  const sent = await recordSent(deps.db, part.id, found.providerMessageId, found.status);
  if (isFailedStatus(sent.status))
    await followWindowFailure(deps, { messageId: part.messageId, errorCode: sent.errorCode });
  log.warn(
    { deliveryId: part.id, providerMessageId: found.providerMessageId },
    'part had been sent before a crash; not resent',
  );
  return true;
}
