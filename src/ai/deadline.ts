/**
 * Runs one provider call under our own deadline as well as the caller's signal. The SDKs' `timeout` only covers
 * the wait for response headers; this deadline also covers reading the body. Every failure leaves as an AppError.
 */
import { AppError } from '../domain/errors.js';
import { toAiError, type AiErrorContext } from './errors.js';

export async function withDeadline<T>(
  context: AiErrorContext,
  callerSignal: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (callerSignal?.aborted) throw cancelled(context, callerSignal);
  // One controller for both causes. Listening on the caller's signal by hand (rather than AbortSignal.any) lets
  // us detach in `finally`, so a long-lived signal such as the worker's shutdown signal gathers no listeners.
  const controller = new AbortController();
  const onCallerAbort = () => {
    controller.abort(callerSignal?.reason);
  };
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`no answer within ${context.timeoutMs} ms`, 'TimeoutError'));
  }, context.timeoutMs);
  try {
    return await run(controller.signal);
  } catch (error) {
    // The caller's abort is a cancellation whatever shape the SDK gave it; the rest (our deadline too) is mapped.
    if (callerSignal?.aborted) throw cancelled(context, callerSignal);
    throw toAiError(error, context);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The caller gave up (worker shutdown, its own deadline): retryable, the job runs again elsewhere. */
function cancelled(context: AiErrorContext, signal: AbortSignal): AppError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new AppError('ai_timeout', `${context.provider}: the caller's deadline passed`, {
      code: 'timeout',
    });
  }
  return new AppError('ai_unavailable', `${context.provider}: request cancelled by the caller`, {
    code: 'cancelled',
  });
}
