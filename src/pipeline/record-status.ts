import { recordDeliveryStatus } from '../db/messages.js';
import { AppError } from '../domain/errors.js';
import type { DeliveryStatus } from '../domain/types.js';
import type { PipelineDeps } from './deps.js';

/**
 * A delivery callback (sent, delivered, read, failed…). Callbacks come several per message and out of order,
 * and may beat us to storing the message's id: the repository keeps every event and only moves a part's status
 * forward, so any order gives the same result.
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
  const level = update.status === 'failed' || update.status === 'undelivered' ? 'warn' : 'debug';
  deps.log[level]({ ...update, known: result.known }, 'delivery status');
  return result;
}
