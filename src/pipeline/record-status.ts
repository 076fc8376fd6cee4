import { adoptSentPart } from '../db/adopt-sent-part.js';
import { recordDeliveryStatus } from '../db/messages.js';
import { recordOptOutByProviderMessage } from '../db/opt-outs.js';
import { AppError } from '../domain/errors.js';
import type { DeliveryStatus } from '../domain/types.js';
import { followWindowFailure, type WindowFallbackDeps } from './window-fallback.js';

export interface StatusUpdate {
  providerMessageId: string;
  status: DeliveryStatus;
  errorCode: string | null;
  /**
   * Our delivery part's id when the provider echoed it (Meta's biz_opaque_callback_data): a part whose send
   * answer was lost takes this provider id (db/adopt-sent-part.ts).
   */
  partId?: string;
}

/**
 * A delivery callback (sent, delivered, read, failed…). Callbacks come several per message and out of order,
 * and may beat us to storing the message's id: the repository keeps every event and only moves a part's status
 * forward, so any order gives the same result. A failure with Twilio's 21610 (the user unsubscribed) records the
 * opt-out of the part's conversation, so nothing more is attempted.
 *
 * A failure "outside the window" (Twilio 63016, Meta 131047) of a known part is followed by the window template
 * here: storing and enqueueing it costs the callback a few milliseconds, and only on that failure. A callback that
 * came before the part's provider id was stored is followed by the sender instead, when recordSent applies it
 * (send-parts.ts), or here when the callback itself names the part and adopts its provider id.
 */
export async function recordStatus(
  deps: WindowFallbackDeps,
  update: StatusUpdate,
): Promise<{ known: boolean; adopted?: boolean }> {
  let result: { known: boolean; adopted?: boolean };
  try {
    result = await recordDeliveryStatus(deps.db, update);
    if (!result.known && update.partId !== undefined) {
      // After the event is stored, so record_sent ranks this status with the others of the wamid.
      const adopted = await adoptSentPart(deps.db, update.partId, update.providerMessageId);
      if (adopted) result = { known: true, adopted: true };
    }
  } catch (error) {
    throw new AppError('database_unavailable', 'could not store the delivery status', { cause: error });
  }
  if (result.adopted)
    deps.log.warn(
      { partId: update.partId, providerMessageId: update.providerMessageId },
      'a sent part whose send answer was lost took its provider id from a status callback; it is not sent again',
    );
  if (update.errorCode === '21610') {
    const recorded = await recordOptOutByProviderMessage(deps.db, update.providerMessageId, 'provider:21610');
    deps.log.warn({ providerMessageId: update.providerMessageId, recorded }, 'the user unsubscribed (21610)');
  }
  const level = update.status === 'failed' || update.status === 'undelivered' ? 'warn' : 'debug';
  deps.log[level]({ ...update, known: result.known }, 'delivery status');
  if (result.known && level === 'warn')
    await followWindowFailure(deps, {
      providerMessageId: update.providerMessageId,
      errorCode: update.errorCode,
    });
  return result;
}
