/**
 * A server that speaks a tool-capable protocol may still refuse tools for a given model: Ollama answers HTTP 400
 * "<model> does not support tools", some proxies reject the field. Replies must not break over an optional
 * feature, so a request with tools that is refused as a bad request is sent once more without them; when that
 * succeeds, this model is remembered as tool-less for the life of the process (logged once) and gets no tools
 * again. A request refused for another reason fails the second time too, and that failure is what is thrown.
 */
import { isAppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { ChatModel } from '../ports.js';

export function withToolFallback(model: ChatModel, log: Logger | undefined): ChatModel {
  let toolsRefused = false;
  return {
    provider: model.provider,
    model: model.model,
    supportsTools: model.supportsTools === true,
    async complete(request, signal) {
      const offered = request.tools !== undefined && request.tools.length > 0;
      if (!offered) return model.complete(request, signal);
      const { tools: _dropped, ...withoutTools } = request;
      if (toolsRefused) return model.complete(withoutTools, signal);
      try {
        return await model.complete(request, signal);
      } catch (error) {
        if (!isAppError(error) || error.kind !== 'ai_bad_request' || signal?.aborted) throw error;
        const result = await model.complete(withoutTools, signal);
        toolsRefused = true;
        log?.warn(
          { provider: model.provider, model: model.model, refusal: error.message },
          'the model refused a request with tools; it is asked without tools from now on (no handoff tool)',
        );
        return result;
      }
    },
  };
}
