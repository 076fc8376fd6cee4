/**
 * The worker's job: answer everything pending in one conversation, one batch at a time, in arrival order.
 * Only the holder of the conversation's lock works on it, so replies never interleave; the database says what
 * is pending and what is unsent, so a retried or duplicated job picks up exactly where the last one stopped.
 * The job's AbortSignal fires when the lock is lost (another worker may now own the conversation) or the process
 * shuts down: no model call, store or send starts after that.
 */
import { conversationForWork } from '../db/conversations.js';
import {
  countRecoveryRun,
  failPending,
  markInbound,
  recordModelCalls,
  type PendingInbound,
} from '../db/messages.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { ConversationJob, JobContext, JobOutcome } from '../ports.js';
import { answerBatch, BurstNotOver, type Deps as StepDeps } from './answer-batch.js';
import { forgetContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import type { Policy } from './gate.js';
import { FailedCalls } from './generate.js';
import { inboundPolicies } from './policies/index.js';
import { PartInFlight } from './send-parts.js';

/** When another worker holds the conversation, look again after this long (it will most likely have our message). */
const BUSY_RETRY_MS = 500;
const MAX_ROUNDS_PER_JOB = 20;

type Deps = StepDeps & Pick<PipelineDeps, 'channelFor'> & { policies?: readonly Policy[] };

export async function processConversation(
  deps: Deps,
  job: ConversationJob,
  context: JobContext,
): Promise<JobOutcome> {
  const log = deps.log.child({
    conversationId: job.conversationId,
    jobId: context.jobId,
    requestId: job.requestId,
  });
  // Owned for settings.conversationLockTtlMs, renewed every third of it while working.
  const ttlMs = deps.settings.conversationLockTtlMs;
  const lease = await deps.locks.acquire(`conversation:${job.conversationId}`, ttlMs);
  if (!lease) return { kind: 'later', delayMs: BUSY_RETRY_MS };
  const abort = new AbortController();
  const onShutdown = () => abort.abort(context.signal?.reason);
  context.signal?.addEventListener('abort', onShutdown, { once: true });
  if (context.signal?.aborted) onShutdown();
  let renewedAt = Date.now();
  const lost = (why: string) => {
    if (abort.signal.aborted) return;
    log.error(`conversation lock lost (${why}); stopping this job before it sends anything more`);
    abort.abort(new LockLost());
  };
  const renew = setInterval(() => {
    lease.extend(ttlMs).then(
      (kept) => {
        if (kept) renewedAt = Date.now();
        else lost('taken by another worker');
      },
      (error: unknown) => {
        log.warn({ err: error }, 'lock renewal failed');
        // Not renewed for most of a TTL (Redis unreachable): another worker may take it any moment now.
        if (Date.now() - renewedAt > (ttlMs * 2) / 3) lost('not renewed in time');
      },
    );
  }, ttlMs / 3);
  renew.unref();
  let batch: PendingInbound[] = [];
  try {
    const conversation = await conversationForWork(deps.db, job.conversationId);
    if (!conversation) {
      log.warn('job for a conversation that does not exist; dropped');
      return { kind: 'done' };
    }
    batch = await withoutExhausted(deps, job, context, conversation.pending, log);
    conversation.pending = batch;
    const channel = deps.channelFor(conversation.channel);
    if (!channel) throw new AppError('config', `no channel configured for ${conversation.channel}`);
    // A retry means an earlier run may have died between storing a reply and caching it: rebuild from the database.
    if (context.attempt > 1) await forgetContext(deps, conversation.id);
    const step = {
      conversation,
      channel,
      policies: deps.policies ?? inboundPolicies(deps, deps.settings),
      jobContext: context,
      signal: abort.signal,
      log,
    };
    let mayHaveUnsent = conversation.hasUnsentParts;
    // The first round's batch came with the conversation; later rounds read it again.
    let prefetched: PendingInbound[] | undefined = conversation.pending;
    for (let round = 0; round < MAX_ROUNDS_PER_JOB; round++) {
      const result = await answerBatch(deps, step, mayHaveUnsent, prefetched);
      prefetched = undefined;
      // After an answer, a message that came in since the last look has its own job, which runs once we let go
      // of the conversation: looking again here would cost two queries on every job to find nothing.
      if (result === 'idle' || result === 'answered') return { kind: 'done' };
      mayHaveUnsent = true;
    }
    return { kind: 'later', delayMs: 0 };
  } catch (error) {
    if (error instanceof BurstNotOver) return { kind: 'later', delayMs: error.waitMs };
    if (error instanceof PartInFlight) return { kind: 'later', delayMs: error.waitMs };
    if (abort.signal.reason instanceof LockLost) return { kind: 'later', delayMs: BUSY_RETRY_MS };
    if (error instanceof FailedCalls && batch.length > 0) {
      await recordModelCalls(deps.db, job.conversationId, batch.at(-1)?.id ?? null, error.calls).catch(
        (cause: unknown) => log.warn({ err: cause }, 'could not record the failed model calls'),
      );
    }
    // Shutting down: the queue runs the job again in another process, as after a crash.
    if (abort.signal.aborted) throw error;
    // The queue retries a retryable error; past the last attempt (or for a permanent one) the messages fail
    // for good, with the reason on each, and a person is told once.
    if ((isAppError(error) && !error.retryable) || context.attempt >= context.maxAttempts) {
      await giveUp(deps, job, context, batch, error, log);
    }
    throw error;
  } finally {
    clearInterval(renew);
    context.signal?.removeEventListener('abort', onShutdown);
    await lease.release().catch((error: unknown) => log.warn({ err: error }, 'lock release failed'));
  }
}

/**
 * A message that keeps killing its worker (or keeps getting lost) must not be retried forever: each run that finds
 * it long overdue counts, and after MAX_RECOVERY_RUNS it fails for good with an alert. The normal path (a message
 * seconds old) costs nothing here.
 */
export const MAX_RECOVERY_RUNS = 3;

async function withoutExhausted(
  deps: Deps,
  job: ConversationJob,
  context: JobContext,
  pending: PendingInbound[],
  log: Deps['log'],
): Promise<PendingInbound[]> {
  // Only a new run of the overdue message's own job counts (a sweep's re-enqueue, a stalled job run again): the
  // queue's own retries of a job are bounded by JOB_ATTEMPTS already, and other messages' jobs say nothing.
  if (context.attempt > 1) return pending;
  const conversationId = job.conversationId;
  const overdueBefore = Date.now() - deps.settings.strandedAfterMs;
  const overdue = pending
    .filter((m) => m.id === job.messageId && m.createdAt.getTime() < overdueBefore)
    .map((m) => m.id);
  if (overdue.length === 0) return pending;
  const runs = await countRecoveryRun(deps.db, overdue);
  const exhausted = [...runs].filter(([, count]) => count > MAX_RECOVERY_RUNS).map(([id]) => id);
  if (exhausted.length === 0) return pending;
  const failed = await markInbound(deps.db, exhausted, 'failed', 'attempts_exhausted');
  const error = new AppError('internal', `${failed} message(s) failed on every attempt; given up`);
  log.error({ messageIds: exhausted, runs: MAX_RECOVERY_RUNS }, error.message);
  deps.report?.(error, { conversationId, stage: 'recovery', messageIds: exhausted });
  const gone = new Set(exhausted);
  return pending.filter((m) => !gone.has(m.id));
}

/** The lock's renewal found it taken: another worker may own the conversation now. */
class LockLost extends Error {
  constructor() {
    super('the conversation lock was lost');
  }
}

/** Fail the messages this job set out to answer (not ones that arrived since: they have their own jobs). */
async function giveUp(
  deps: Deps,
  job: ConversationJob,
  context: JobContext,
  batch: PendingInbound[],
  error: unknown,
  log: Deps['log'],
): Promise<void> {
  const reason = isAppError(error) ? error.kind : 'internal';
  const failed = await failPending(
    deps.db,
    batch.map((m) => m.id),
    reason,
    context.attempt,
  ).catch((cause: unknown) => {
    log.error({ err: cause }, 'could not mark the messages failed; the sweep will try them again');
    return 0;
  });
  log.error({ err: error, failed, reason, attempt: context.attempt }, 'messages failed for good');
  deps.report?.(error, {
    conversationId: job.conversationId,
    jobId: context.jobId,
    attempt: context.attempt,
    failedMessages: failed,
  });
}
