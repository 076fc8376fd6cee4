/**
 * Meta's `statuses[]` items (wire facts §5.4) → the core's delivery status updates. `read` may come without
 * `delivered`, and before it; the ranking in the database (domain/delivery.ts) makes any order end the same.
 */
import type { DeliveryStatus } from '../../domain/types.js';
import { array, isObject, number, providerId, raw, text } from './json.js';

export interface MetaStatusUpdate {
  /** The wamid of the message we sent. */
  providerMessageId: string;
  status: DeliveryStatus;
  /** The first error's code on a failure (131047: outside the 24-hour window), else null. */
  errorCode: string | null;
  /**
   * Our delivery part id, echoed back from the send's `biz_opaque_callback_data`: it finds the part whose
   * send answer was lost in a crash (pipeline/record-status.ts adopts the wamid for it).
   */
  partId?: string;
  /** Meta's own word for it (`played` is not one of ours). */
  providerStatus: string;
  /** What Meta said about a failure: code, title, details (for the log). */
  errors?: Array<{ code?: string; title?: string; details?: string }>;
}

/**
 * Meta's status → ours. `played` (a voice note was first played, which implies it was read) is `read`: the highest
 * rank the core has, so it never moves a part backwards, and a later `read` adds nothing. Anything else we do not
 * know (`deleted`, a future status) says nothing about delivery: undefined, and it is only logged.
 */
const STATUSES: Readonly<Record<string, DeliveryStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'read',
  failed: 'failed',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ParsedStatus = { ok: true; update: MetaStatusUpdate } | { ok: false; reason: string };

export function parseMetaStatus(item: unknown): ParsedStatus {
  if (!isObject(item)) return { ok: false, reason: 'a status that is not an object' };
  const providerMessageId = providerId(item, 'id');
  if (providerMessageId === undefined) return { ok: false, reason: 'a status without a message id' };
  const providerStatus = text(item, 'status', 40)?.toLowerCase() ?? '';
  const status = Object.hasOwn(STATUSES, providerStatus) ? STATUSES[providerStatus] : undefined;
  if (status === undefined)
    return {
      ok: false,
      reason: `status "${providerStatus}" of ${providerMessageId} is not a delivery status`,
    };
  const errors = array(item, 'errors')
    .filter(isObject)
    .slice(0, 5)
    .map((error) => {
      const code = number(error, 'code');
      const title = text(error, 'title', 256) ?? text(error, 'message', 256);
      const details = text(isObject(error.error_data) ? error.error_data : undefined, 'details', 512);
      return {
        ...(code !== undefined && Number.isInteger(code) ? { code: String(code) } : {}),
        ...(title !== undefined ? { title } : {}),
        ...(details !== undefined ? { details } : {}),
      };
    });
  const partId = raw(item, 'biz_opaque_callback_data')?.trim();
  return {
    ok: true,
    update: {
      providerMessageId,
      status,
      errorCode: status === 'failed' ? (errors.find((e) => e.code !== undefined)?.code ?? null) : null,
      providerStatus,
      ...(partId !== undefined && UUID.test(partId) ? { partId: partId.toLowerCase() } : {}),
      ...(errors.length > 0 ? { errors } : {}),
    },
  };
}
