import type { DeliveryStatus } from './types.js';

/** Every delivery status, in rank order; the schema's CHECK constraints are built from this list. */
export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'queued',
  'accepted',
  'scheduled',
  'sent',
  'failed',
  'undelivered',
  'canceled',
  'unknown',
  'delivered',
  'read',
] as const satisfies readonly DeliveryStatus[];

/**
 * How far along a message is. Status callbacks arrive several per message and out of order, so a status only
 * replaces one of lower rank. A failure outranks `sent` (the channel gave up after accepting it) but not
 * `delivered`/`read`, which the handset confirmed.
 */
const RANK: Record<DeliveryStatus, number> = {
  pending: 0,
  sending: 1,
  queued: 2,
  accepted: 2,
  scheduled: 2,
  sent: 3,
  failed: 4,
  undelivered: 4,
  canceled: 4,
  unknown: 4,
  delivered: 5,
  read: 6,
};

export function deliveryRank(status: DeliveryStatus): number {
  return RANK[status];
}

/** True when `next` should replace `current`. */
export function isBetterStatus(next: DeliveryStatus, current: DeliveryStatus): boolean {
  return RANK[next] > RANK[current];
}

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return Object.hasOwn(RANK, value);
}

/** Statuses that end a delivery in failure; their error code is kept. */
export function isFailedStatus(status: DeliveryStatus): boolean {
  return status === 'failed' || status === 'undelivered' || status === 'canceled';
}

/**
 * One status for a message sent in several parts: a failed part, if any (the message did not fully arrive), else
 * the least advanced part (the message is `read` only once every part is). No parts yet: `pending`.
 */
export function messageDeliveryStatus(parts: readonly DeliveryStatus[]): DeliveryStatus {
  const failed = parts.find(isFailedStatus);
  if (failed) return failed;
  let least: DeliveryStatus | undefined;
  for (const part of parts) if (least === undefined || RANK[part] < RANK[least]) least = part;
  return least ?? 'pending';
}
