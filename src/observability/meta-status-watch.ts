/**
 * Says when Meta's status webhooks seem to have stopped while this process sends through Meta. They matter beyond
 * the ticks: after a crash or a timeout, findSent waits up to 3 minutes for a status naming the part before
 * sending again, so without them an ambiguous send can go out twice (docs: README "Sending through Meta"). The
 * usual cause is the app's webhook no longer subscribed to `messages`, or the webhook URL failing.
 *
 * This process remembers its last sends (wamid and time); at most once per check interval it asks, with one
 * indexed query, whether any of those sent between `windowMs` and `quietMs` ago got any status callback. Meta
 * sends `sent` within seconds, so none at all for several sends is an outage, reported once per check (the error
 * reporter throttles alerts to one per type per hour across processes).
 */
import type { Db } from '../db/connect.js';
import { countWithStatusEvents } from '../db/delivery-events.js';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../log.js';

export const META_STATUSES_MISSING = 'meta_statuses_missing';

export interface MetaStatusWatchOptions {
  db: Db;
  /** The error reporter: the alert goes out through it. */
  report: (error: AppError, context: Record<string, unknown>) => void;
  log?: Logger;
  /** A send younger than this may simply not have its status yet. */
  quietMs?: number;
  /** Sends older than this are forgotten. */
  windowMs?: number;
  /** Fewer unconfirmed sends than this say nothing (one lost webhook is no outage). */
  minSends?: number;
  checkEveryMs?: number;
  now?: () => number;
}

export interface MetaStatusWatch {
  /** A send Meta accepted with this wamid; may start a check (in the background). */
  sent(wamid: string): void;
  /** Check now: true when it reported the silence. Never throws (a failed check is logged). */
  check(): Promise<boolean>;
}

const REMEMBERED = 50;

export function createMetaStatusWatch(options: MetaStatusWatchOptions): MetaStatusWatch {
  const now = options.now ?? Date.now;
  const quietMs = options.quietMs ?? 10 * 60_000;
  const windowMs = options.windowMs ?? 60 * 60_000;
  const minSends = options.minSends ?? 3;
  const checkEveryMs = options.checkEveryMs ?? 5 * 60_000;
  let sends: Array<{ wamid: string; at: number }> = [];
  let lastCheck = now();

  async function check(): Promise<boolean> {
    lastCheck = now();
    const current = now();
    sends = sends.filter((send) => current - send.at <= windowMs);
    const settled = sends.filter((send) => current - send.at >= quietMs);
    if (settled.length < minSends) return false;
    try {
      const confirmed = await countWithStatusEvents(
        options.db,
        settled.map((send) => send.wamid),
      );
      if (confirmed > 0) return false;
      options.report(
        new AppError(
          'channel_unavailable',
          `no Meta status webhook has arrived for the last ${settled.length} messages sent through Meta ` +
            `(sent ${Math.round(quietMs / 60_000)}+ minutes ago): check the app's webhook subscription ` +
            "(the 'messages' field) and its URL; until statuses arrive, a send whose answer was lost may go twice",
          { code: META_STATUSES_MISSING },
        ),
        { unconfirmedSends: settled.length },
      );
      return true;
    } catch (error) {
      options.log?.warn({ err: error }, 'could not check whether Meta status webhooks arrive');
      return false;
    }
  }

  return {
    sent(wamid) {
      sends.push({ wamid, at: now() });
      if (sends.length > REMEMBERED) sends = sends.slice(-REMEMBERED);
      if (now() - lastCheck >= checkEveryMs) void check();
    },
    check,
  };
}
