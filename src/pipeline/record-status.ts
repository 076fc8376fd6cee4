import { recordDeliveryStatus } from '../db/messages.js';
import { recordOptOutByProviderMessage } from '../db/opt-outs.js';
import { AppError } from '../domain/errors.js';
import type { DeliveryStatus } from '../domain/types.js';
import type { PipelineDeps } from './deps.js';

/**
 * A delivery callback (sent, delivered, read, failed…). Callbacks come several per message and out of order,
 * and may beat us to storing the message's id: the repository keeps every event and only moves a part's status
 * forward, so any order gives the same result. A failure with Twilio's 21610 (the user unsubscribed) records the
 * opt-out of the part's conversation, so nothing more is attempted.
 */
export async function recordStatus(
  deps: Pick<PipelineDeps, 'db' | 'log'>,
  update: { providerMessageId: string; status: DeliveryStatus; errorCode: string | null },
): Promise<{ known: boolean }> {
  let result: { known: boolean };
  try {
    result = await recordDeliveryStatus(deps.db, update);
  } catch (error) {
    throw new AppError('database_unavailable', 'could not store the delivery status', { cause: error });
  }
  if (update.errorCode === '21610') {
    const recorded = await recordOptOutByProviderMessage(deps.db, update.providerMessageId, 'provider:21610');
    deps.log.warn({ providerMessageId: update.providerMessageId, recorded }, 'the user unsubscribed (21610)');
  }
  const level = update.status === 'failed' || update.status === 'undelivered' ? 'warn' : 'debug';
  deps.log[level]({ ...update, known: result.known }, 'delivery status');
  return result;
}
