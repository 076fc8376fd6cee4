/**
 * The one place that turns validated AI settings into a ChatModel. Called once per process by the composition
 * root, so each process holds one SDK client (one HTTP connection pool) per model.
 */
import type { AiSettings } from '../config/load.js';
import { AppError } from '../domain/errors.js';
import type { ChatModel } from '../ports.js';
import { createAnthropicModel } from './anthropic.js';
import { createOfflineModel } from './offline.js';
import { createOpenAiCompatibleModel } from './openai-compatible.js';
import { withToolFallback } from './tool-fallback.js';
import type { Logger } from '../log.js';

export function createChatModel(
  settings: AiSettings,
  options: { appUrl?: string; log?: Logger } = {},
): ChatModel {
  const { provider, apiKey, model, baseUrl, timeoutMs, temperature, maxTokens } = settings;
  switch (provider) {
    case 'offline':
      return createOfflineModel();
    case 'anthropic':
      // The config check already demands the key; this keeps a hand-built AiSettings honest too.
      if (!apiKey) throw new AppError('config', 'ANTHROPIC_API_KEY is required for the anthropic provider');
      return withToolFallback(
        createAnthropicModel({ apiKey, model, baseUrl, timeoutMs, temperature, maxTokens }),
        options.log,
      );
    case 'openai':
    case 'openrouter':
    case 'openai-compatible':
      return withToolFallback(
        createOpenAiCompatibleModel({
          provider,
          apiKey,
          model,
          baseUrl,
          timeoutMs,
          temperature,
          maxTokens,
          appUrl: options.appUrl,
        }),
        options.log,
      );
  }
}
