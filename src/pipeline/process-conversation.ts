import { conversationForWork, type ConversationWork } from '../db/conversations.js';
import {
  markInbound,
  pendingInbound,
  saveReply,
  saveReplyUnlessNewer,
  sessionTurns,
  type PendingInbound,
  type SavedReply,
} from '../db/messages.js';
import { AppError, isAppError } from '../domain/errors.js';
import { buildPrompt } from '../domain/prompt.js';
import { stripControlChars } from '../domain/sanitize.js';
import { splitReply } from '../domain/split.js';
import type { Turn, TokenUsage } from '../domain/types.js';
import { friendlyAiFailure } from '../domain/user-messages.js';
import type { ChatModel, ChatResult, ConversationJob, JobContext, JobOutcome } from '../ports.js';
import type { PipelineDeps } from './deps.js';
import { sendParts, sendUnsentParts } from './send-parts.js';

/** When another worker holds the conversation, look again after this long (it will most likely have our message). */
const BUSY_RETRY_MS = 500;
/** Messages that keep arriving while we answer are folded in, but not forever. */
const MAX_FOLDS = 3;
const MAX_ROUNDS_PER_JOB = 20;

type Deps = Pick<
  PipelineDeps,
  'db' | 'locks' | 'context' | 'ai' | 'channelFor' | 'log' | 'settings' | 'report'
>;

/**
 * The worker's job: answer everything pending in one conversation, one batch at a time, in arrival order.
 * Only the holder of the conversation's lock works on it, so replies never interleave; the database says what
 * is pending and what is unsent, so a retried or duplicated job picks up exactly where the last one stopped.
 */
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
  const renew = setInterval(() => {
    lease.extend(ttlMs).catch((error: unknown) => log.warn({ err: error }, 'lock renewal failed'));
  }, ttlMs / 3);
  renew.unref();
  try {
    const conversation = await conversationForWork(deps.db, job.conversationId);
    if (!conversation) {
      log.warn('job for a conversation that does not exist; dropped');
      return { kind: 'done' };
    }
    // A retry means an earlier run may have died between storing a reply and caching it: rebuild from the database.
    if (context.attempt > 1) await forgetContext(deps, conversation.id);
    let mayHaveUnsent = conversation.hasUnsentParts;
    // The first round's batch came with the conversation; later rounds read it again.
    let prefetched: PendingInbound[] | undefined = conversation.pending;
    for (let round = 0; round < MAX_ROUNDS_PER_JOB; round++) {
      const step = await processOnce(deps, conversation, mayHaveUnsent, prefetched, context, log);
      prefetched = undefined;
      // After an answer, a message that came in since the last look has its own job, which runs once we let go
      // of the conversation: looking again here would cost two queries on every job to find nothing.
      if (step === 'idle' || step === 'answered') return { kind: 'done' };
      mayHaveUnsent = true;
    }
    return { kind: 'later', delayMs: 0 };
  } catch (error) {
    if (error instanceof BurstNotOver) return { kind: 'later', delayMs: error.waitMs };
    // The queue retries a retryable error; past the last attempt (or for a permanent one) it is a failure a
    // person may have to look at.
    if ((isAppError(error) && !error.retryable) || context.attempt >= context.maxAttempts) {
      deps.report?.(error, {
        conversationId: job.conversationId,
        jobId: context.jobId,
        attempt: context.attempt,
      });
    }
    throw error;
  } finally {
    clearInterval(renew);
    await lease.release().catch((error: unknown) => log.warn({ err: error }, 'lock release failed'));
  }
}

/**
 * One step: flush unsent parts, else answer the pending batch and send the answer. 'idle' when there was
 * nothing to do, 'answered' when a reply was stored and sent, 'worked' for anything else done.
 */
async function processOnce(
  deps: Deps,
  conversation: ConversationWork,
  mayHaveUnsent: boolean,
  prefetched: PendingInbound[] | undefined,
  jobContext: JobContext,
  log: Deps['log'],
): Promise<'idle' | 'answered' | 'worked'> {
  const channel = deps.channelFor(conversation.channel);
  if (!channel) throw new AppError('config', `no channel configured for ${conversation.channel}`);
  if (mayHaveUnsent && (await sendUnsentParts(deps, conversation.id, channel, log))) return 'worked';

  let batch = prefetched ?? (await pendingInbound(deps.db, conversation.id));
  if (batch.length === 0) return 'idle';
  const wait = burstWaitMs(batch, deps.settings, Date.now());
  if (wait > 0) throw new BurstNotOver(wait);
  if (conversation.botPaused) {
    await markInbound(
      deps.db,
      batch.map((m) => m.id),
      'skipped',
      'bot paused for human handling',
    );
    log.info({ count: batch.length }, 'bot paused: messages left for a human');
    return 'worked';
  }

  const history = await loadContext(deps, conversation);
  let answer = await answerBatch(deps, history, batch, jobContext, log);
  let parts = splitReply(answer.text, channel.maxBodyLength);
  // Messages that arrived while the model was thinking are folded in, so the user gets one coherent answer. The
  // store refuses while there are any (a check inside the same statement), at most MAX_FOLDS times.
  let saved: SavedReply | 'newer';
  for (let fold = 0; ; fold++) {
    const reply = {
      conversationId: conversation.id,
      answeredIds: batch.map((m) => m.id),
      content: answer.text,
      parts: parts.length > 0 ? parts : [answer.text],
      to: conversation.userAddress,
      from: conversation.businessAddress,
      model: answer.model,
      provider: answer.provider,
      usage: answer.usage,
      latencyMs: answer.latencyMs,
      errorKind: answer.errorKind,
    };
    // Sent right after: the first part is stored already claimed for sending (one statement fewer).
    const options = { claimFirstPart: true };
    saved =
      fold < MAX_FOLDS
        ? await saveReplyUnlessNewer(deps.db, reply, options)
        : await saveReply(deps.db, reply, options);
    if (saved !== 'newer') break;
    const newer = await pendingInbound(deps.db, conversation.id);
    log.info(
      { before: batch.length, after: newer.length },
      'newer messages arrived; folding them into the answer',
    );
    batch = newer;
    answer = await answerBatch(deps, history, batch, jobContext, log);
    parts = splitReply(answer.text, channel.maxBodyLength);
  }
  const now = Date.now();
  const turns: Turn[] = [
    ...batch.map((m) => ({ id: m.id, role: 'user' as const, content: m.content, at: m.createdAt.getTime() })),
    { id: saved.replyId, role: 'assistant', content: answer.text, at: now },
  ];
  await deps.context.append(conversation.id, turns).catch(async (error: unknown) => {
    log.warn({ err: error }, 'context cache update failed; it will be rebuilt from the database');
    await forgetContext(deps, conversation.id);
  });
  log.info(
    {
      replyId: saved.replyId,
      parts: parts.length,
      model: answer.model,
      latencyMs: answer.latencyMs,
      ...answer.usage,
    },
    answer.errorKind ? 'stored a fallback reply' : 'stored the reply',
  );
  if (!saved.created) {
    // A retried job whose reply was stored the first time: its parts are in the database, maybe half sent.
    await sendUnsentParts(deps, conversation.id, channel, log);
    return 'worked';
  }
  await sendParts(deps, saved.parts, channel, log);
  return 'answered';
}

/** The user is still typing: answer once the burst is over (quiet for the window, or the maximum wait). */
class BurstNotOver extends Error {
  readonly waitMs: number;
  constructor(waitMs: number) {
    super('burst not over');
    this.waitMs = waitMs;
  }
}

export function burstWaitMs(
  batch: Array<{ createdAt: Date }>,
  settings: { burstWindowMs: number; burstMaxWaitMs: number },
  now: number,
): number {
  const first = batch[0];
  const last = batch.at(-1);
  if (!first || !last || settings.burstWindowMs <= 0) return 0;
  const quietFor = now - last.createdAt.getTime();
  const waitedFor = now - first.createdAt.getTime();
  if (waitedFor >= settings.burstMaxWaitMs) return 0;
  return Math.max(0, Math.min(settings.burstWindowMs - quietFor, settings.burstMaxWaitMs - waitedFor));
}

interface Answer {
  text: string;
  model: string | null;
  provider: string | null;
  usage: TokenUsage | null;
  latencyMs: number | null;
  errorKind: string | null;
}

/** Ask the model. A transient failure is retried by the queue; on the last attempt the user gets a kind word. */
async function answerBatch(
  deps: Deps,
  history: Turn[],
  batch: Array<{ content: string }>,
  jobContext: JobContext,
  log: Deps['log'],
): Promise<Answer> {
  const choice = await deps.ai.current();
  const messages = buildPrompt({ systemPrompt: choice.systemPrompt, history, batch });
  const request = { messages, temperature: choice.temperature, maxTokens: choice.maxTokens };
  const started = performance.now();
  const answered = (model: ChatModel, result: ChatResult): Answer => ({
    // What a model writes is outside input too: no terminal escapes or bells in a user's chat.
    text: stripControlChars(result.text),
    model: result.model,
    provider: model.provider,
    usage: result.usage,
    latencyMs: Math.round(performance.now() - started),
    errorKind: null,
  });
  try {
    return answered(choice.model, await choice.model.complete(request));
  } catch (caught) {
    const error = asAiError(caught);
    if (choice.fallback) {
      log.warn(
        { kind: error.kind, fallback: choice.fallback.model },
        'AI call failed; trying the fallback model',
      );
      try {
        return answered(choice.fallback, await choice.fallback.complete(request));
      } catch (fallbackError) {
        log.warn({ kind: asAiError(fallbackError).kind }, 'the fallback model failed too');
      }
    }
    const lastAttempt = jobContext.attempt >= jobContext.maxAttempts;
    log.error(
      { err: error, kind: error.kind, attempt: jobContext.attempt, maxAttempts: jobContext.maxAttempts },
      error.retryable && !lastAttempt
        ? 'AI call failed; will retry'
        : 'AI call failed; answering with a fallback',
    );
    if (error.retryable && !lastAttempt) throw error;
    deps.report?.(
      error,
      { stage: 'ai', model: choice.model.model, attempt: jobContext.attempt },
      { givenUp: true, scope: choice.model.model },
    );
    return {
      text: friendlyAiFailure(error.kind, deps.settings.alertsConfigured),
      model: choice.model.model,
      provider: choice.model.provider,
      usage: null,
      latencyMs: Math.round(performance.now() - started),
      errorKind: error.kind,
    };
  }
}

/**
 * The session's turns: from the hot cache, or rebuilt from PostgreSQL on a miss (and cached again). A
 * conversation without any reply yet has none, and costs no lookup.
 */
async function loadContext(deps: Deps, conversation: ConversationWork): Promise<Turn[]> {
  if (!conversation.hasReplies) return [];
  const cached = await deps.context.get(conversation.id).catch(() => null);
  if (cached) return cached.slice(-deps.settings.maxHistory);
  const turns = await sessionTurns(deps.db, conversation.id, {
    maxTurns: deps.settings.maxHistory,
    sessionTimeoutMs: deps.settings.sessionTimeoutMs,
    now: new Date(),
    after: conversation.contextResetAt,
  });
  if (turns.length > 0) await deps.context.append(conversation.id, turns).catch(() => undefined);
  return turns;
}

function asAiError(caught: unknown): AppError {
  return isAppError(caught)
    ? caught
    : new AppError('ai_unavailable', 'the AI provider failed unexpectedly', { cause: caught });
}

async function forgetContext(deps: Deps, conversationId: string): Promise<void> {
  await deps.context.clear(conversationId).catch((error: unknown) => {
    deps.log.warn({ err: error, conversationId }, 'could not clear the context cache');
  });
}
