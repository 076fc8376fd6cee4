/**
 * Decorators that measure the ports from outside, applied by the composition root, so the use cases stay
 * free of metrics: a ChatModel that times its calls and counts tokens, a Channel that counts sends, a job
 * handler that times jobs. Errors are counted where they happen (AI, WHATSAPP here); the job decorator counts
 * only the other categories, so one failure is never counted twice.
 */
import { isAppError } from '../domain/errors.js';
import type { ChannelName } from '../domain/types.js';
import type { AiChoice, AiRuntime, Channel, ChatModel, JobHandler } from '../ports.js';
import { classifyError } from './errors.js';
import type { Metrics } from './metrics.js';

/** The AI runtime with every model it hands out (main and fallback) measured; one wrapper per model object. */
export function instrumentAiRuntime(runtime: AiRuntime, metrics: Metrics): AiRuntime {
  const wrapped = new WeakMap<ChatModel, ChatModel>();
  const measured = (model: ChatModel): ChatModel => {
    let wrapper = wrapped.get(model);
    if (!wrapper) {
      wrapper = instrumentChatModel(model, metrics);
      wrapped.set(model, wrapper);
    }
    return wrapper;
  };
  const measuredChoice = <T extends AiChoice>(choice: T): T => ({
    ...choice,
    model: measured(choice.model),
    ...(choice.fallback ? { fallback: measured(choice.fallback) } : {}),
  });
  return {
    ...runtime,
    current: async () => measuredChoice(await runtime.current()),
    forConfig: async (aiConfigId) => measuredChoice(await runtime.forConfig(aiConfigId)),
  };
}

export function instrumentChatModel(model: ChatModel, metrics: Metrics): ChatModel {
  const labels = { provider: model.provider, model: model.model };
  return {
    provider: model.provider,
    model: model.model,
    // A decorator that dropped this would silently take the tools (the handoff tool) away from every model.
    ...(model.supportsTools === undefined ? {} : { supportsTools: model.supportsTools }),
    async complete(request, signal) {
      const stop = metrics.llmDuration.startTimer(labels);
      try {
        const result = await model.complete(request, signal);
        stop({ outcome: 'ok' });
        metrics.llmTokens.inc({ ...labels, direction: 'in' }, result.usage.inputTokens);
        metrics.llmTokens.inc({ ...labels, direction: 'out' }, result.usage.outputTokens);
        return result;
      } catch (error) {
        stop({ outcome: isAppError(error) ? error.kind : 'unexpected' });
        const { category, severity } = classifyError(error, 'AI');
        metrics.recordError(category, severity);
        throw error;
      }
    },
  };
}

/** channelFor with every channel it returns measured; one wrapper per channel object. */
export function instrumentChannels(
  channelFor: (name: ChannelName) => Channel | undefined,
  metrics: Metrics,
): (name: ChannelName) => Channel | undefined {
  const wrapped = new WeakMap<Channel, Channel>();
  return (name) => {
    const channel = channelFor(name);
    if (!channel) return undefined;
    let wrapper = wrapped.get(channel);
    if (!wrapper) {
      wrapper = instrumentChannel(channel, metrics);
      wrapped.set(channel, wrapper);
    }
    return wrapper;
  };
}

export function instrumentChannel(channel: Channel, metrics: Metrics): Channel {
  const labels = { channel: channel.name };
  return {
    name: channel.name,
    maxBodyLength: channel.maxBodyLength,
    capabilities: channel.capabilities,
    // Read through: a channel's numbers may change while it runs (Meta's come from the number directory).
    get senders() {
      return channel.senders;
    },
    async send(message) {
      const stop = metrics.sendDuration.startTimer(labels);
      try {
        const result = await channel.send(message);
        metrics.sends.inc({ ...labels, status: 'sent' });
        return result;
      } catch (error) {
        const retryable = isAppError(error) ? error.retryable : true;
        metrics.sends.inc({ ...labels, status: retryable ? 'failed' : 'rejected' });
        const { category, severity } = classifyError(error, 'WHATSAPP');
        metrics.recordError(category, severity);
        throw error;
      } finally {
        stop();
      }
    },
    findSent: (query) => channel.findSent(query),
    // A decorator that dropped it would silently take the read receipts and the typing indicator away.
    ...(channel.acknowledge ? { acknowledge: channel.acknowledge.bind(channel) } : {}),
    ...(channel.fetchMedia ? { fetchMedia: channel.fetchMedia.bind(channel) } : {}),
  };
}

/** Times each job by outcome; a failure is counted as an error unless its part (AI, channel) counted it. */
export function instrumentJobHandler(handler: JobHandler, metrics: Metrics): JobHandler {
  return async (job, context) => {
    const stop = metrics.jobDuration.startTimer();
    try {
      const outcome = await handler(job, context);
      stop({ outcome: outcome.kind });
      return outcome;
    } catch (error) {
      const final = context.attempt >= context.maxAttempts || (isAppError(error) && !error.retryable);
      stop({ outcome: final ? 'failed' : 'retry' });
      const { category, severity } = classifyError(error);
      if (category !== 'AI' && category !== 'WHATSAPP') metrics.recordError(category, severity);
      throw error;
    }
  };
}
