/**
 * The generate stage: ask the conversation's model, then its fallback, and on the last attempt give the user a kind
 * word instead of silence. Every call is recorded (used, or failed before the fallback answered) so what an
 * answer cost is known even when it was thrown away.
 */
import type { ModelCallRecord } from '../db/messages.js';
import { AppError, isAppError } from '../domain/errors.js';
import { HANDOFF_TOOL, handoffRequest } from '../domain/handoff-tool.js';
import { buildPrompt } from '../domain/prompt.js';
import { stripControlChars } from '../domain/sanitize.js';
import type { ChatImage, TokenUsage, Turn } from '../domain/types.js';
import { friendlyAiFailure, noVisionNotice } from '../domain/user-messages.js';
import { isImageWithoutText, withoutImages } from '../domain/vision.js';
import type { ChatModel, ChatRequest, JobContext } from '../ports.js';
import type { PipelineDeps } from './deps.js';
import { aiChoiceFor } from './persona.js';
import { withinSpendCap } from './spend-cap.js';

export interface Answer {
  text: string;
  model: string | null;
  provider: string | null;
  usage: TokenUsage | null;
  latencyMs: number | null;
  errorKind: string | null;
  /** The model called the `handoff` tool, with this reason: hand the conversation to a person, send no text. */
  handoff: { reason: string } | null;
  /** Every model call made for this answer, the one that produced it last (outcome `used`). */
  calls: ModelCallRecord[];
  /**
   * Set when the text is a fixed notice, not a model's answer (`no_vision`: only images, and a model that cannot see
   * them): the batch is closed as `notice` with this reason, and no model was called.
   */
  notice?: 'no_vision';
}

type Deps = Pick<
  PipelineDeps,
  'ai' | 'numbers' | 'report' | 'settings' | 'db' | 'locks' | 'pricing' | 'alertSpend'
>;

/**
 * Ask the model of the conversation's business number (persona.ts). A transient failure is retried by the queue;
 * on the last attempt the user gets a kind word.
 */
export async function generateAnswer(
  deps: Deps,
  conversation: { channel: string; businessAddress: string | null; userAddress?: string },
  history: Turn[],
  batch: Array<{ content: string; images?: ChatImage[]; payload?: Record<string, unknown> | null }>,
  jobContext: JobContext,
  signal: AbortSignal,
  log: PipelineDeps['log'],
): Promise<Answer> {
  // Over a daily spend cap with SPEND_CAP_FALLBACK_MODEL set, the cheaper model answers (pipeline/spend-cap.ts).
  const choice = await withinSpendCap({ ...deps, log }, conversation, await aiChoiceFor(deps, conversation));
  // Each call carries its cost (from the price in force now) and its day to the record (pipeline/pricing.ts).
  const priced = (call: ModelCallRecord, model: ChatModel): ModelCallRecord =>
    deps.pricing
      ? deps.pricing.price(call, model.model, model === choice.model ? choice.price : undefined)
      : call;
  if (choice.vision !== true && batch.length > 0 && batch.every(isImageWithoutText)) {
    // Nothing a text-only model could answer but a guess: the user hears what would make photos work instead.
    log.info(
      { model: choice.model.model },
      'only images, and the model cannot see them: answering with a notice',
    );
    return {
      text: noVisionNotice(),
      model: null,
      provider: null,
      usage: null,
      latencyMs: null,
      errorKind: null,
      handoff: null,
      calls: [],
      notice: 'no_vision',
    };
  }
  const messages = buildPrompt({ systemPrompt: choice.systemPrompt, history, batch });
  // Image parts go only to a model that sees them (the fallback may not): the others read a note in their place.
  const hasImages = messages.some((message) => message.images && message.images.length > 0);
  const textOnly = hasImages ? withoutImages(messages) : messages;
  const visionOf = (model: ChatModel) =>
    model === choice.model ? choice.vision === true : choice.fallbackVision === true;
  // The generate stage runs only for a conversation the bot answers, so the handoff tool is always on offer there,
  // to every model whose protocol has tools.
  const requestFor = (model: ChatModel): ChatRequest => {
    const base = {
      messages: visionOf(model) ? messages : textOnly,
      temperature: choice.temperature,
      maxTokens: choice.maxTokens,
    };
    return model.supportsTools === true ? { ...base, tools: [HANDOFF_TOOL] } : base;
  };
  const calls: ModelCallRecord[] = [];
  const call = async (model: ChatModel): Promise<Answer> => {
    const started = performance.now();
    try {
      const result = await model.complete(requestFor(model), signal);
      const latencyMs = Math.round(performance.now() - started);
      const handoff = handoffRequest(result.toolCalls);
      // What a model writes is outside input too: no terminal escapes or bells in a user's chat.
      const text = stripControlChars(result.text);
      if (!handoff && text.trim() === '') {
        // Only a call of a tool we did not offer: nothing to send, the same as an empty answer.
        throw new AppError('ai_unavailable', `${model.provider}: no answer text from ${result.model}`, {
          code: 'empty_response',
        });
      }
      calls.push(
        priced(
          {
            provider: model.provider,
            model: result.model,
            outcome: 'used',
            errorKind: null,
            usage: result.usage,
            latencyMs,
          },
          model,
        ),
      );
      return {
        text,
        model: result.model,
        provider: model.provider,
        usage: result.usage,
        latencyMs,
        errorKind: null,
        handoff,
        calls,
      };
    } catch (caught) {
      const error = asAiError(caught);
      calls.push(
        priced(
          {
            provider: model.provider,
            model: model.model,
            outcome: 'failed',
            errorKind: error.kind,
            usage: null,
            latencyMs: Math.round(performance.now() - started),
          },
          model,
        ),
      );
      throw error;
    }
  };
  const started = performance.now();
  try {
    return await call(choice.model);
  } catch (caught) {
    signal.throwIfAborted();
    const error = asAiError(caught);
    if (choice.fallback) {
      log.warn(
        { kind: error.kind, fallback: choice.fallback.model },
        'AI call failed; trying the fallback model',
      );
      try {
        return await call(choice.fallback);
      } catch (fallbackError) {
        signal.throwIfAborted();
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
    if (error.retryable && !lastAttempt) throw new FailedCalls(error, calls);
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
      handoff: null,
      calls,
    };
  }
}

/**
 * A retryable AI failure that ends this attempt: it carries the calls made, so the caller can record them before
 * the queue retries (a failed call costs money too, and an operator asks why a message took three tries).
 */
export class FailedCalls extends AppError {
  readonly calls: ModelCallRecord[];
  constructor(error: AppError, calls: ModelCallRecord[]) {
    super(error.kind, error.message, {
      cause: error,
      retryable: error.retryable,
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    });
    this.calls = calls;
  }
}

function asAiError(caught: unknown): AppError {
  return isAppError(caught)
    ? caught
    : new AppError('ai_unavailable', 'the AI provider failed unexpectedly', { cause: caught });
}
