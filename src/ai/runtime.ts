/**
 * Which model answers right now: the active AI configuration in the database, else the environment's settings.
 * Running workers pick up an activation, edit or deactivation within `refreshMs` without a restart: the active
 * row is re-read at most that often, and the ChatModel (one SDK client, one connection pool) is rebuilt only
 * when the row changed (another id or updated_at). A row that cannot be used (its key does not decrypt, its
 * provider is unknown) is logged once and the environment's settings answer instead: a bad edit in the admin
 * must not stop the bot.
 * A business number may name its own configuration (its persona): `forConfig(id)` reads that row the same way
 * (cached, refreshed, rebuilt on change); when it is gone or cannot be used, the active choice answers.
 */
import { visionByDefault } from './vision-models.js';
import type { AiSettings } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { getActiveAiConfig, getAiConfig, isAiConfigProvider, type AiConfigRow } from '../db/ai-configs.js';
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
  /** The configuration's name, when one is in use. */
  configName: string | null;
  /** Why the configuration could not be used, when another choice answers in its place. */
  problem: string | null;
}

export interface ConfiguredAiRuntime extends AiRuntime {
  current(): Promise<RuntimeChoice>;
  forConfig(aiConfigId: string): Promise<RuntimeChoice>;
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
    // The row's own switch only: AI_VISION is about AI_MODEL, not about the model this row names.
    ...(row.vision === null ? {} : { vision: row.vision }),
  };
}

/** Whether the model of these settings sees images: their own `vision`, else the table of well-known models. */
export function sees(settings: Pick<AiSettings, 'model' | 'vision'>): boolean {
  return settings.vision ?? visionByDefault(settings.model);
}

export function createAiRuntime(options: AiRuntimeOptions): ConfiguredAiRuntime {
  const { db, envSettings, decrypt, log } = options;
  const refreshMs = options.refreshMs ?? 5000;
  const modelOptions = { ...(options.appUrl ? { appUrl: options.appUrl } : {}), log };
  const fallback: ChatModel | undefined = options.fallbackSettings
    ? createChatModel(options.fallbackSettings, modelOptions)
    : undefined;
  // The fallback is the environment's (AI_FALLBACK_MODEL) whichever configuration is active, and so is its vision.
  const fallbackVision = options.fallbackSettings ? sees(options.fallbackSettings) : false;
  const environment: RuntimeChoice = {
    model: createChatModel(envSettings, modelOptions),
    fallback,
    systemPrompt: envSettings.systemPrompt,
    temperature: envSettings.temperature,
    maxTokens: envSettings.maxTokens,
    vision: sees(envSettings),
    fallbackVision,
    voiceAnswers: false,
    source: 'environment',
    configName: null,
    problem: null,
  };

  /** The choice a row stands for, or its problem (logged once per version of the row: build runs once per version). */
  function build(row: AiConfigRow, what: string): RuntimeChoice | { problem: string } {
    try {
      const settings = settingsFromAiConfig(row, envSettings, decrypt);
      log.info(
        { config: row.name, provider: settings.provider, model: settings.model },
        `using AI configuration (${what})`,
      );
      return {
        model: createChatModel(settings, modelOptions),
        fallback,
        systemPrompt: settings.systemPrompt,
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
        vision: sees(settings),
        fallbackVision,
        voiceAnswers: row.voiceAnswers,
        ...(row.voice === null ? {} : { voice: row.voice }),
        ...(row.inputPriceUsd !== null && row.outputPriceUsd !== null
          ? { price: { input: row.inputPriceUsd, output: row.outputPriceUsd } }
          : {}),
        source: 'database',
        configName: row.name,
        problem: null,
      };
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      log.error(
        { err: error, config: row.name },
        what === 'active'
          ? 'the active AI configuration cannot be used; answering with the environment settings'
          : `the AI configuration of ${what} cannot be used; answering with the active choice`,
      );
      return { problem };
    }
  }

  const active = cachedRow({
    read: () => getActiveAiConfig(db),
    build: (row) => build(row, 'active'),
    onMissing: (hadRow) => {
      if (hadRow) log.info('no active AI configuration; using the environment settings');
    },
    refreshMs,
    log,
  });

  async function current(): Promise<RuntimeChoice> {
    const built = await active.get();
    if (built === null) return environment;
    return 'model' in built ? built : { ...environment, problem: built.problem };
  }

  const personas = new Map<string, CachedRow>();
  async function forConfig(aiConfigId: string): Promise<RuntimeChoice> {
    let persona = personas.get(aiConfigId);
    if (!persona) {
      persona = cachedRow({
        read: () => getAiConfig(db, { id: aiConfigId }),
        build: (row) => build(row, `a business number (${row.name})`),
        onMissing: () =>
          log.warn({ aiConfigId }, "a business number's AI configuration is gone; using the active one"),
        refreshMs,
        log,
      });
      personas.set(aiConfigId, persona);
    }
    const built = await persona.get();
    if (built !== null && 'model' in built) return built;
    const instead = await current();
    return built === null ? instead : { ...instead, problem: built.problem };
  }

  return {
    environment,
    current,
    forConfig,
    async refresh() {
      active.expire();
      for (const persona of personas.values()) persona.expire();
      return current();
    },
  };
}

type Built = RuntimeChoice | { problem: string };

interface CachedRow {
  /** The choice of the row as last read (re-read when older than refreshMs), null when there is no row. */
  get(): Promise<Built | null>;
  /** The next get() reads the row again. */
  expire(): void;
}

/**
 * One row read at most once per refreshMs, shared by concurrent callers, and built again only when it changed
 * (another id or updated_at). A read that fails keeps what was known: the database is briefly away, and the
 * pipeline has its own handling of that outage.
 */
function cachedRow(options: {
  read: () => Promise<AiConfigRow | null>;
  build: (row: AiConfigRow) => Built;
  onMissing: (hadRow: boolean) => void;
  refreshMs: number;
  log: Logger;
}): CachedRow {
  let cached: { signature: string; built: Built | null } | null = null;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<Built | null> | null = null;

  async function reread(): Promise<Built | null> {
    let row: AiConfigRow | null;
    try {
      row = await options.read();
    } catch (error) {
      options.log.warn({ err: error }, 'could not read the AI configuration; keeping the current one');
      checkedAt = Date.now();
      return cached?.built ?? null;
    }
    const signature = row ? `${row.id}@${row.updatedAt.toISOString()}` : 'none';
    if (cached?.signature !== signature) {
      if (!row) options.onMissing(cached !== null);
      cached = { signature, built: row ? options.build(row) : null };
    }
    checkedAt = Date.now();
    return cached.built;
  }

  return {
    get() {
      if (cached && Date.now() - checkedAt < options.refreshMs) return Promise.resolve(cached.built);
      // Concurrent jobs share one query instead of each asking the database.
      inflight ??= reread().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    expire() {
      checkedAt = Number.NEGATIVE_INFINITY;
    },
  };
}
