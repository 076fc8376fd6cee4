import { expireIdleConversations } from '../db/conversations.js';
import { pruneDeliveryEvents } from '../db/deliveries.js';
import { strandedWork } from '../db/messages.js';
import { pruneWebhookLogs } from '../db/webhook-logs.js';
import { asDatabaseError } from '../db/sqlstate.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { PipelineDeps } from './deps.js';
import { applyRetention, type RetentionResult } from './retention.js';
import { returnIdleHandoffs } from './return-idle-handoffs.js';
import { followMissedWindowFailures, type WindowFallbackDeps } from './window-fallback.js';
import type { PruneBatches } from '../db/prune.js';

export interface SweepSettings {
  strandedAfterMs: number;
  sessionTimeoutMs: number;
  /** Webhook logs and delivery_events older than this are deleted, a bounded number of rows per round. */
  webhookLogRetentionDays: number;
  /** HANDOFF_IDLE_MINUTES in ms: conversations in `human` without an operator message that long go back to the bot; 0 = never. */
  handoffIdleMs: number;
  /** RETENTION_DAYS: messages, conversations, model calls and notes older than this are deleted; 0 keeps them. */
  retentionDays: number;
  /** Rows per statement and statements per round of the retention deletes (tests use tiny ones). */
  retentionBatches?: PruneBatches;
  /** Examine every inactive conversation for retention, not only those this round emptied (a first round). */
  retentionCatchUp?: boolean;
}

export interface SweepResult {
  reenqueued: number;
  expired: number;
  /** Webhook log rows deleted (retention: webhookLogRetentionDays). */
  pruned: number;
  /** delivery_events rows deleted, with the same retention. */
  prunedDeliveryEvents: number;
  /** Conversations handed back to the bot after HANDOFF_IDLE_MINUTES without an operator message. */
  returnedToBot: number;
  /** What RETENTION_DAYS deleted this round, per table. */
  retention: RetentionResult;
  /** Window failures (63016, 131047) whose template a transient failure had lost, followed now. */
  windowFallbacks: number;
}

/**
 * The scheduler's periodic work. Re-enqueue inbound messages and outbound parts that were stored but never
 * finished (the queue was down when they arrived, or a job failed for good), mark idle conversations inactive,
 * give handed-off conversations nobody answers back to the bot (HANDOFF_IDLE_MINUTES),
 * prune old webhook logs and delivery events, delete conversations and messages past RETENTION_DAYS (in bounded batches: a backlog is worked off over several rounds,
 * never in one long delete), follow window failures whose template was lost (a bounded number per round). Safe to run from several schedulers: the lock makes one of them do it per round, and
 * every step is idempotent anyway.
 */
export async function sweep(
  deps: WindowFallbackDeps & Pick<PipelineDeps, 'locks' | 'context'> & Partial<Pick<PipelineDeps, 'media'>>,
  settings: SweepSettings,
  roundMs: number,
): Promise<SweepResult | null> {
  const lease = await deps.locks
    .acquire('scheduler:sweep', Math.max(1000, roundMs - 100))
    .catch((error: unknown) => {
      throw isAppError(error)
        ? error
        : new AppError('queue_unavailable', 'sweep: Redis did not answer', { cause: error });
    });
  if (!lease) return null;
  const db = <T>(what: string, work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      throw asDatabaseError(error, `sweep: could not ${what}`);
    });
  const stranded = await db('read stranded work', strandedWork(deps.db, settings.strandedAfterMs));
  let reenqueued = 0;
  for (const work of stranded) {
    try {
      await deps.queue.enqueue({ conversationId: work.conversationId, messageId: work.messageId });
      reenqueued++;
    } catch (error) {
      deps.log.warn({ err: error }, 'queue still unavailable; stranded messages wait for the next sweep');
      break;
    }
  }
  const expired = await db(
    'expire idle conversations',
    expireIdleConversations(deps.db, settings.sessionTimeoutMs),
  );
  const returnedToBot = await db(
    'return idle handoffs to the bot',
    returnIdleHandoffs(deps, settings.handoffIdleMs),
  );
  const pruned = await db('prune webhook logs', pruneWebhookLogs(deps.db, settings.webhookLogRetentionDays));
  const prunedDeliveryEvents = await db(
    'prune delivery events',
    pruneDeliveryEvents(deps.db, settings.webhookLogRetentionDays),
  );
  const retention = await db(
    'apply the retention period',
    applyRetention(
      deps.db,
      settings.retentionDays,
      settings.retentionBatches,
      settings.retentionCatchUp,
      deps.media,
    ),
  );
  const windowFallbacks = await db('follow window failures', followMissedWindowFailures(deps));
  const retained =
    retention.messages +
    retention.modelCalls +
    retention.notes +
    retention.conversations +
    retention.mediaFiles;
  if (reenqueued + expired + returnedToBot + pruned + prunedDeliveryEvents + retained + windowFallbacks > 0) {
    deps.log.info(
      { reenqueued, expired, returnedToBot, pruned, prunedDeliveryEvents, retention, windowFallbacks },
      'sweep',
    );
  }
  // The lease is left to expire so that other schedulers skip this round.
  return { reenqueued, expired, pruned, prunedDeliveryEvents, returnedToBot, retention, windowFallbacks };
}
