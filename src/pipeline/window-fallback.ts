/**
 * A message the provider reported as outside WhatsApp's 24-hour window (Twilio 63016, Meta 131047: late in a
 * status callback or at once when sending) is followed by the channel's window template, once: the template is
 * keyed on the failed message (`window-fallback:<message id>`), so every part's callback, a callback repeated, the
 * sender noticing the same failure and the sweep all store one message. A template's own failure is never followed
 * (no loop). A fallback that could not be stored for a transient reason (the database, the queue) is found again
 * by the scheduler's sweep (followMissedWindowFailures) for a day.
 */
import { getConversation } from '../db/conversations.js';
import {
  failedOutbound,
  recordFallbackAttempt,
  recordFallbackSkipped,
  unfollowedWindowFailures,
  type FallbackBackoff,
  type FallbackSkip,
} from '../db/window-failures.js';
import { isAppError } from '../domain/errors.js';
import type { ChannelName } from '../domain/types.js';
import { isWindowFailure, WINDOW_FAILURE_CODES, WINDOW_FALLBACK_HORIZON_MS } from '../domain/window.js';
import type { PipelineDeps } from './deps.js';
import { sendOutbound } from './send-outbound.js';

export type WindowFallbackDeps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'settings' | 'report'
>;

/** What following one failure came to. */
export type FollowOutcome = 'followed' | 'already' | 'skipped' | 'not_applicable' | 'failed';

/**
 * Follow a failed part of an outbound message: nothing unless its code says "outside the window", the message
 * is not itself a template, and its channel has a window template. Never throws: the failure is recorded already.
 * A refusal the rules expect (the user opted out) is logged and noted on the failed message; any other failure is
 * reported, and the sweep tries again.
 */
export async function followWindowFailure(
  deps: WindowFallbackDeps,
  failure: { errorCode: string | null } & ({ providerMessageId: string } | { messageId: string }),
): Promise<FollowOutcome> {
  if (!isWindowFailure(failure.errorCode)) return 'not_applicable';
  let failedMessageId: string | undefined;
  try {
    const failed = await failedOutbound(deps.db, failure);
    if (!failed || failed.contentType === 'template') return 'not_applicable';
    failedMessageId = failed.messageId;
    const conversation = await getConversation(deps.db, failed.conversationId);
    const template = conversation && deps.settings.windowTemplates[conversation.channel];
    if (!template) return 'not_applicable';
    const sent = await sendOutbound(deps, {
      conversationId: failed.conversationId,
      key: `window-fallback:${failed.messageId}`,
      author: 'system',
      content: template,
      windowNote: {
        reason: 'window_failure',
        failedMessageId: failed.messageId,
        errorCode: failure.errorCode ?? '',
      },
    });
    if (!sent.created) return 'already';
    deps.log.info(
      { failedMessageId: failed.messageId, messageId: sent.messageId, errorCode: failure.errorCode },
      'outside the window: the window template follows the failed message',
    );
    return 'followed';
  } catch (error) {
    const expected = expectedRefusal(error);
    if (expected && failedMessageId !== undefined) {
      deps.log.info(
        { failedMessageId, errorCode: failure.errorCode, reason: expected },
        'outside the window: no window template sent, as the rules require',
      );
      await recordFallbackSkipped(deps.db, failedMessageId, expected).catch((cause: unknown) =>
        deps.log.warn({ err: cause, failedMessageId }, 'could not note the skipped window template'),
      );
      return 'skipped';
    }
    deps.log.error(
      { err: error, errorCode: failure.errorCode, failedMessageId },
      'the window template could not be stored; the sweep tries again',
    );
    deps.report?.(error, { stage: 'window_fallback', errorCode: failure.errorCode });
    return 'failed';
  }
}

/** The refusals that are the rules working (the user opted out; no template may go), not faults. */
function expectedRefusal(error: unknown): FallbackSkip | null {
  if (!isAppError(error) || error.kind !== 'conflict') return null;
  return error.code === 'opted_out' || error.code === 'outside_window' ? error.code : null;
}

/** Failures followed per sweep at most: a backlog is worked off over several rounds. */
export const WINDOW_FALLBACKS_PER_SWEEP = 100;

/**
 * After its n-th failed try a failure waits 1 min · 2^(n−1), at most an hour, before the sweep tries it again: a
 * failure that keeps failing (a template the provider keeps refusing for a transient reason) is tried about 30
 * times in its day instead of every round, and fresh failures, which come first, are never starved by it.
 */
export const WINDOW_FALLBACK_BACKOFF: FallbackBackoff = { baseSeconds: 60, maxSeconds: 3600 };

/**
 * The sweep's part: window failures of the last WINDOW_FALLBACK_HORIZON_MS on a channel with a window template
 * that have no fallback yet (its storing failed, the process died between the failure and the fallback) are
 * followed now, the fewest tries first, each failed try backing off (WINDOW_FALLBACK_BACKOFF). Returns how many got
 * their template.
 */
export async function followMissedWindowFailures(
  deps: WindowFallbackDeps,
  now: Date = new Date(),
  limit: number = WINDOW_FALLBACKS_PER_SWEEP,
): Promise<number> {
  const channels = (Object.keys(deps.settings.windowTemplates) as ChannelName[]).filter(
    (channel) => deps.settings.windowTemplates[channel] !== undefined,
  );
  const missed = await unfollowedWindowFailures(deps.db, {
    codes: WINDOW_FAILURE_CODES,
    channels,
    since: new Date(now.getTime() - WINDOW_FALLBACK_HORIZON_MS),
    limit,
    now,
    backoff: WINDOW_FALLBACK_BACKOFF,
  });
  let followed = 0;
  for (const failure of missed) {
    const outcome = await followWindowFailure(deps, failure);
    if (outcome === 'followed') followed++;
    // Counted, so the next rounds back off from it (a database that is down cannot count it: it comes back soon).
    if (outcome === 'failed')
      await recordFallbackAttempt(deps.db, failure.messageId, now).catch((cause: unknown) =>
        deps.log.warn(
          { err: cause, failedMessageId: failure.messageId },
          'could not count the failed window template try',
        ),
      );
  }
  return followed;
}
