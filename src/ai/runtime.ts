/**
 * Which model answers right now: the active AI configuration in the database, else the environment's settings.
 * Running workers pick up an activation, edit or deactivation within `refreshMs` without a restart: the active
 * row is re-read at most that often, and the ChatModel (one SDK client, one connection pool) is rebuilt only
 * when the row changed (another id or updated_at). A row that cannot be used (its key does not decrypt, its
 * provider is unknown) is logged once and the environment's settings answer instead: a bad edit in the admin
 * must not stop the bot.
 */
import type { AiSettings } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { getActiveAiConfig, isAiConfigProvider, type AiConfigRow } from '../db/ai-configs.js';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { AiChoice, AiRuntime, ChatModel } from '../ports.js';
import { createChatModel } from './select.js';

export interface AiRuntimeOptions {
  db: Db;
  /** The environment's AI settings: the default, and what answers when no configuration is usable. */
  envSettings: AiSettings;
  /** The environment's second model, tried when the main one fails (kept whichever configuration is active). */
  fallbackSettings?: AiSettings | null | undefined;
  /** Decrypts a stored API key; throws when it cannot (missing or wrong FIELD_ENCRYPTION_KEY, altered value). */
  decrypt: (stored: string) => string;
  appUrl?: string | undefined;
  log: Logger;
  refreshMs?: number;
}

export interface RuntimeChoice extends AiChoice {
  source: 'database' | 'environment';
  /** The active configuration's name, when one is in use. */
  configName: string | null;
  /** Why the active configuration could not be used, when the environment answers in its place. */
  problem: string | null;
}

export interface ConfiguredAiRuntime extends AiRuntime {
  current(): Promise<RuntimeChoice>;
  /** Re-read the active configuration now, ignoring the cache. */
  refresh(): Promise<RuntimeChoice>;
  /** The environment's choice, built at start. */
  readonly environment: RuntimeChoice;
}

/**
 * The AiSettings an AI configuration row stands for; the environment fills what the row leaves empty
 * (timeout, and temperature, max tokens and system prompt when the row has none).
 */
export function settingsFromAiConfig(
  row: AiConfigRow,
  envSettings: AiSettings,
  decrypt: (stored: string) => string,
): AiSettings {
  if (!isAiConfigProvider(row.provider)) {
    throw new AppError('config', `AI configuration "${row.name}" has an unknown provider "${row.provider}"`);
  }
  let apiKey: string | undefined;
  if (row.apiKeyEncrypted !== null) {
    try {
      apiKey = decrypt(row.apiKeyEncrypted);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError(
        'config',
        `AI configuration "${row.name}": its API key cannot be decrypted: ${reason}`,
        {
          cause: error,
        },
      );
    }
  }
  return {
    provider: row.provider,
    apiKey,
    model: row.model,
    baseUrl: row.baseUrl ?? undefined,
    timeoutMs: envSettings.timeoutMs,
    temperature: row.temperature ?? envSettings.temperature,
    maxTokens: row.maxTokens ?? envSettings.maxTokens,
    systemPrompt: row.systemPrompt ?? envSettings.systemPrompt,
  };
}

export function createAiRuntime(options: AiRuntimeOptions): ConfiguredAiRuntime {
  const { db, envSettings, decrypt, log } = options;
  const refreshMs = options.refreshMs ?? 5000;
  const modelOptions = { ...(options.appUrl ? { appUrl: options.appUrl } : {}), log };
  const fallback: ChatModel | undefined = options.fallbackSettings
    ? createChatModel(options.fallbackSettings, modelOptions)
    : undefined;
  const environment: RuntimeChoice = {
    model: createChatModel(envSettings, modelOptions),
    fallback,
    systemPrompt: envSettings.systemPrompt,
    temperature: envSettings.temperature,
    maxTokens: envSettings.maxTokens,
    source: 'environment',
    configName: null,
    problem: null,
  };

  let cached: { signature: string; choice: RuntimeChoice } | null = null;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<RuntimeChoice> | null = null;

  function build(row: AiConfigRow): RuntimeChoice {
    try {
      const settings = settingsFromAiConfig(row, envSettings, decrypt);
      const choice: RuntimeChoice = {
        model: createChatModel(settings, modelOptions),
        fallback,
        systemPrompt: settings.systemPrompt,
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
        source: 'database',
        configName: row.name,
        problem: null,
      };
      log.info(
        { config: row.name, provider: settings.provider, model: settings.model },
        'using AI configuration',
      );
      return choice;
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      log.error(
        { err: error, config: row.name },
        'the active AI configuration cannot be used; answering with the environment settings',
      );
      return { ...environment, problem };
    }
  }

  async function refresh(): Promise<RuntimeChoice> {
    let row: AiConfigRow | null;
    try {
      row = await getActiveAiConfig(db);
    } catch (error) {
      // The database is briefly away: keep what we had; the pipeline has its own handling of that outage.
      log.warn({ err: error }, 'could not read the active AI configuration; keeping the current one');
      checkedAt = Date.now();
      return cached?.choice ?? environment;
    }
    const signature = row ? `${row.id}@${row.updatedAt.toISOString()}` : 'environment';
    if (cached?.signature !== signature) {
      if (!row && cached) log.info('no active AI configuration; using the environment settings');
      cached = { signature, choice: row ? build(row) : environment };
    }
    checkedAt = Date.now();
    return cached.choice;
  }

  return {
    environment,
    refresh,
    current() {
      if (cached && Date.now() - checkedAt < refreshMs) return Promise.resolve(cached.choice);
      // Concurrent jobs share one query instead of each asking the database.
      inflight ??= refresh().finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };
}
