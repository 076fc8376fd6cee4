/**
 * AI configurations: named provider/model/key settings stored in the database, at most one active (the partial
 * unique index ai_configurations_one_active_idx guarantees it, whatever the callers do). The active one
 * overrides the environment's AI settings in running workers (ai/runtime.ts). API keys are stored encrypted
 * (security/field-encryption.ts) and leave this module only masked, through toAiConfigView.
 */
import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import { FieldKeyError, KEY_HELP, maskSecret, type FieldCipher } from '../security/field-encryption.js';
import type { Db } from './connect.js';
import { aiConfigurations } from './schema.js';

export type AiConfigRow = typeof aiConfigurations.$inferSelect;

export const AI_CONFIG_PROVIDERS = ['openrouter', 'openai', 'anthropic', 'openai-compatible'] as const;
export type AiConfigProvider = (typeof AI_CONFIG_PROVIDERS)[number];

export interface AiConfigInput {
  name: string;
  provider: string;
  /** Plain text; stored encrypted. Optional only for openai-compatible servers without auth (Ollama). */
  apiKey?: string | undefined;
  model: string;
  baseUrl?: string | undefined;
  systemPrompt?: string | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Its own price, USD per million input/output tokens (both or neither); absent: the price table's. */
  inputPriceUsd?: number | undefined;
  outputPriceUsd?: number | undefined;
  /** The model sees images; null or absent: the table of well-known vision models decides (ai/vision-models.ts). */
  vision?: boolean | null | undefined;
  /** Answer a voice note with a voice note too; off when absent. */
  voiceAnswers?: boolean | undefined;
  /** The speech voice for voice answers (`alloy`); absent: SPEECH_VOICE. */
  voice?: string | undefined;
}

/** undefined keeps a field; null clears an optional one. */
export interface AiConfigPatch {
  name?: string;
  provider?: string;
  apiKey?: string | null;
  model?: string;
  baseUrl?: string | null;
  systemPrompt?: string | null;
  temperature?: number | null;
  maxTokens?: number | null;
  inputPriceUsd?: number | null;
  outputPriceUsd?: number | null;
  /** null: back to the table of well-known vision models. */
  vision?: boolean | null;
  voiceAnswers?: boolean;
  voice?: string | null;
}

/** Select a configuration by its id (URLs) or its name (CLI). */
export type AiConfigRef = { id: string } | { name: string };

/** What may be shown to an operator: everything but the key, which is masked. */
export interface AiConfigView {
  id: string;
  name: string;
  provider: string;
  model: string;
  baseUrl: string | null;
  systemPrompt: string | null;
  temperature: number | null;
  maxTokens: number | null;
  /** Its own price (USD per million tokens); null: the price table's. */
  inputPriceUsd: number | null;
  outputPriceUsd: number | null;
  /** true/false as set; null: the table of well-known vision models decides. */
  vision: boolean | null;
  voiceAnswers: boolean;
  voice: string | null;
  isActive: boolean;
  /** `sk-or-…x9f2`; null when no key is stored; `(encrypted)` / `(undecryptable)` when it cannot be shown. */
  apiKeyMasked: string | null;
  createdAt: Date;
  updatedAt: Date;
}

// ── validation (pure) ─────────────────────────────────────────────────────────────────────────────────────

interface Candidate {
  name: string;
  provider: string;
  hasKey: boolean;
  apiKey: string | undefined;
  model: string;
  baseUrl: string | null;
  systemPrompt: string | null;
  temperature: number | null;
  maxTokens: number | null;
  inputPriceUsd?: number | null;
  outputPriceUsd?: number | null;
  voice?: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
/** A speech voice's name (`alloy`, `nova`, `en-US-JennyNeural`): one word, no spaces. */
const VOICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const NEEDS_KEY: readonly string[] = ['openrouter', 'openai', 'anthropic'];

export function isAiConfigProvider(value: string): value is AiConfigProvider {
  return (AI_CONFIG_PROVIDERS as readonly string[]).includes(value);
}

/** Every problem with a configuration, each naming its field; empty when it is valid. */
export function aiConfigProblems(c: Candidate): string[] {
  const problems: string[] = [];
  if (!NAME.test(c.name))
    problems.push('name: 1–100 letters, digits, spaces or . _ -, starting with a letter or digit');
  if (!isAiConfigProvider(c.provider))
    problems.push(`provider: must be one of ${AI_CONFIG_PROVIDERS.join(', ')}`);
  if (c.model.trim() === '' || c.model.length > 200)
    problems.push('model: must not be empty (at most 200 characters)');
  if (c.provider === 'anthropic' && c.model.includes('/')) {
    problems.push('model: name an Anthropic model without a provider prefix, e.g. claude-sonnet-4-6');
  }
  if (c.apiKey !== undefined && (c.apiKey.trim() === '' || /\s/.test(c.apiKey) || c.apiKey.length > 1000)) {
    problems.push('api key: must be non-empty, without spaces');
  }
  if (!c.hasKey && NEEDS_KEY.includes(c.provider))
    problems.push(`api key: required for the ${c.provider} provider`);
  if (c.baseUrl !== null && !isHttpUrl(c.baseUrl))
    problems.push('base URL: must be an http:// or https:// URL');
  if (c.baseUrl === null && c.provider === 'openai-compatible') {
    problems.push('base URL: required for the openai-compatible provider');
  }
  if (
    c.temperature !== null &&
    !(Number.isFinite(c.temperature) && c.temperature >= 0 && c.temperature <= 2)
  ) {
    problems.push('temperature: must be a number from 0 to 2');
  }
  if (
    c.maxTokens !== null &&
    !(Number.isSafeInteger(c.maxTokens) && c.maxTokens > 0 && c.maxTokens <= 1_000_000)
  ) {
    problems.push('max tokens: must be a whole number above 0');
  }
  if (c.systemPrompt !== null && c.systemPrompt.length > 20_000)
    problems.push('system prompt: at most 20000 characters');
  if (typeof c.voice === 'string' && !VOICE.test(c.voice))
    problems.push('voice: a voice name of the speech provider, e.g. alloy (letters, digits, . _ -)');
  problems.push(...priceProblems(c.inputPriceUsd ?? null, c.outputPriceUsd ?? null));
  return problems;
}

/** A configuration's own price: both sides or neither (half a price would silently price the other side at 0). */
function priceProblems(input: number | null, output: number | null): string[] {
  const problems: string[] = [];
  for (const [side, value] of [
    ['input', input],
    ['output', output],
  ] as const) {
    if (value !== null && !(Number.isFinite(value) && value >= 0 && value <= 100_000))
      problems.push(`${side} price: must be a number ≥ 0 (US dollars per million tokens)`);
  }
  if ((input === null) !== (output === null))
    problems.push('price: give both --input-price and --output-price, or neither');
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function refuse(problems: string[]): void {
  if (problems.length > 0)
    throw new AppError('invalid_input', `Invalid AI configuration: ${problems.join('; ')}`);
}

// ── reading ───────────────────────────────────────────────────────────────────────────────────────────────

function where(ref: AiConfigRef) {
  return 'id' in ref ? eq(aiConfigurations.id, ref.id) : eq(aiConfigurations.name, ref.name);
}

function describeRef(ref: AiConfigRef): string {
  return 'id' in ref ? `with id ${ref.id}` : `named "${ref.name}"`;
}

function notFound(ref: AiConfigRef): AppError {
  return new AppError('not_found', `No AI configuration ${describeRef(ref)}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listAiConfigs(db: Db): Promise<AiConfigRow[]> {
  return db.select().from(aiConfigurations).orderBy(asc(aiConfigurations.name));
}

export async function getAiConfig(db: Db, ref: AiConfigRef): Promise<AiConfigRow | null> {
  if ('id' in ref && !UUID.test(ref.id)) return null;
  const rows = await db.select().from(aiConfigurations).where(where(ref)).limit(1);
  return rows[0] ?? null;
}

export function getAiConfigByName(db: Db, name: string): Promise<AiConfigRow | null> {
  return getAiConfig(db, { name });
}

/** The one active configuration (the database allows at most one), or null to use the environment's. */
export async function getActiveAiConfig(db: Db): Promise<AiConfigRow | null> {
  const rows = await db.select().from(aiConfigurations).where(eq(aiConfigurations.isActive, true)).limit(1);
  return rows[0] ?? null;
}

/** A row as it may be shown; the key is decrypted only to be masked, and only when a cipher is at hand. */
export function toAiConfigView(row: AiConfigRow, cipher: FieldCipher | null): AiConfigView {
  const { apiKeyEncrypted, ...rest } = row;
  let apiKeyMasked: string | null = null;
  if (apiKeyEncrypted !== null) {
    try {
      apiKeyMasked = cipher ? maskSecret(cipher.decrypt(apiKeyEncrypted)) : '(encrypted)';
    } catch {
      apiKeyMasked = '(undecryptable)';
    }
  }
  return { ...rest, apiKeyMasked };
}

// ── writing ───────────────────────────────────────────────────────────────────────────────────────────────

/** Serialises activations: two at once would otherwise each see the other's row inactive and collide. */
const ACTIVATION_LOCK_KEY = 7_318_204_551_903;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function activateIn(tx: Tx, id: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ACTIVATION_LOCK_KEY})`);
  await tx
    .update(aiConfigurations)
    .set({ isActive: false })
    .where(and(eq(aiConfigurations.isActive, true), ne(aiConfigurations.id, id)));
  await tx.update(aiConfigurations).set({ isActive: true }).where(eq(aiConfigurations.id, id));
}

/** Create a configuration; with `activate`, it becomes the active one in the same transaction. */
export async function createAiConfig(
  db: Db,
  cipher: FieldCipher | null,
  input: AiConfigInput,
  options: { activate?: boolean } = {},
): Promise<AiConfigRow> {
  const candidate: Candidate = {
    name: input.name,
    provider: input.provider,
    hasKey: input.apiKey !== undefined,
    apiKey: input.apiKey,
    model: input.model.trim(),
    baseUrl: input.baseUrl ?? null,
    systemPrompt: input.systemPrompt ?? null,
    temperature: input.temperature ?? null,
    maxTokens: input.maxTokens ?? null,
    inputPriceUsd: input.inputPriceUsd ?? null,
    outputPriceUsd: input.outputPriceUsd ?? null,
    voice: input.voice ?? null,
  };
  refuse(aiConfigProblems(candidate));
  const apiKeyEncrypted = input.apiKey === undefined ? null : needCipher(cipher).encrypt(input.apiKey);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(aiConfigurations)
      .values({
        name: candidate.name,
        provider: candidate.provider,
        apiKeyEncrypted,
        model: candidate.model,
        baseUrl: candidate.baseUrl,
        systemPrompt: candidate.systemPrompt,
        temperature: candidate.temperature,
        maxTokens: candidate.maxTokens,
        inputPriceUsd: candidate.inputPriceUsd ?? null,
        outputPriceUsd: candidate.outputPriceUsd ?? null,
        vision: input.vision ?? null,
        voiceAnswers: input.voiceAnswers ?? false,
        voice: candidate.voice ?? null,
      })
      .onConflictDoNothing({ target: aiConfigurations.name })
      .returning();
    if (!row) throw duplicate(input.name);
    if (!options.activate) return row;
    await activateIn(tx, row.id);
    return reread(tx, row.id);
  });
}

/** Change fields of a configuration (the whole result is validated); with `activate`, also make it active. */
export async function updateAiConfig(
  db: Db,
  cipher: FieldCipher | null,
  ref: AiConfigRef,
  patch: AiConfigPatch,
  options: { activate?: boolean } = {},
): Promise<AiConfigRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(aiConfigurations).where(where(ref)).for('update');
    if (!row) throw notFound(ref);
    const candidate: Candidate = {
      name: patch.name ?? row.name,
      provider: patch.provider ?? row.provider,
      hasKey: patch.apiKey === undefined ? row.apiKeyEncrypted !== null : patch.apiKey !== null,
      apiKey: patch.apiKey ?? undefined,
      model: (patch.model ?? row.model).trim(),
      baseUrl: patch.baseUrl === undefined ? row.baseUrl : patch.baseUrl,
      systemPrompt: patch.systemPrompt === undefined ? row.systemPrompt : patch.systemPrompt,
      temperature: patch.temperature === undefined ? row.temperature : patch.temperature,
      maxTokens: patch.maxTokens === undefined ? row.maxTokens : patch.maxTokens,
      inputPriceUsd: patch.inputPriceUsd === undefined ? row.inputPriceUsd : patch.inputPriceUsd,
      outputPriceUsd: patch.outputPriceUsd === undefined ? row.outputPriceUsd : patch.outputPriceUsd,
      voice: patch.voice === undefined ? row.voice : patch.voice,
    };
    refuse(aiConfigProblems(candidate));
    const apiKeyEncrypted =
      patch.apiKey === undefined || patch.apiKey === null
        ? patch.apiKey
        : needCipher(cipher).encrypt(patch.apiKey);
    if (candidate.name !== row.name && (await getAiConfigIn(tx, candidate.name)))
      throw duplicate(candidate.name);
    await tx
      .update(aiConfigurations)
      .set({
        name: candidate.name,
        provider: candidate.provider,
        ...(apiKeyEncrypted === undefined ? {} : { apiKeyEncrypted }),
        model: candidate.model,
        baseUrl: candidate.baseUrl,
        systemPrompt: candidate.systemPrompt,
        temperature: candidate.temperature,
        maxTokens: candidate.maxTokens,
        inputPriceUsd: candidate.inputPriceUsd ?? null,
        outputPriceUsd: candidate.outputPriceUsd ?? null,
        vision: patch.vision === undefined ? row.vision : patch.vision,
        voiceAnswers: patch.voiceAnswers ?? row.voiceAnswers,
        voice: candidate.voice ?? null,
        // Always moves, so running workers see the change even when only the key changed.
        updatedAt: sql`now()`,
      })
      .where(eq(aiConfigurations.id, row.id));
    if (options.activate) await activateIn(tx, row.id);
    return reread(tx, row.id);
  });
}

/** Make this configuration the active one; the previous active one, if any, is deactivated atomically. */
export async function activateAiConfig(db: Db, ref: AiConfigRef): Promise<AiConfigRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select({ id: aiConfigurations.id }).from(aiConfigurations).where(where(ref));
    if (!row) throw notFound(ref);
    await activateIn(tx, row.id);
    return reread(tx, row.id);
  });
}

/** No active configuration: workers go back to the environment's settings. Returns the one deactivated. */
export async function deactivateAiConfigs(db: Db): Promise<AiConfigRow | null> {
  const rows = await db
    .update(aiConfigurations)
    .set({ isActive: false })
    .where(eq(aiConfigurations.isActive, true))
    .returning();
  return rows[0] ?? null;
}

/** Deactivate one configuration; false when it was not active. */
export async function deactivateAiConfig(db: Db, ref: AiConfigRef): Promise<boolean> {
  const existing = await getAiConfig(db, ref);
  if (!existing) throw notFound(ref);
  const rows = await db
    .update(aiConfigurations)
    .set({ isActive: false })
    .where(and(eq(aiConfigurations.id, existing.id), eq(aiConfigurations.isActive, true)))
    .returning({ id: aiConfigurations.id });
  return rows.length > 0;
}

/** Delete a configuration; deleting the active one sends workers back to the environment's settings. */
export async function deleteAiConfig(db: Db, ref: AiConfigRef): Promise<boolean> {
  if ('id' in ref && !UUID.test(ref.id)) return false;
  const rows = await db.delete(aiConfigurations).where(where(ref)).returning({ id: aiConfigurations.id });
  return rows.length > 0;
}

/**
 * Re-encrypt every stored key with `cipher`'s current key, in one transaction (all or nothing). `cipher` must
 * also hold the old key (FIELD_ENCRYPTION_KEY_PREVIOUS) to read values it did not write.
 */
export async function reencryptAiConfigKeys(
  db: Db,
  cipher: FieldCipher,
): Promise<{ total: number; rotated: number; alreadyCurrent: number }> {
  return db.transaction(async (tx) => {
    const rows = await tx.select().from(aiConfigurations).for('update');
    let rotated = 0;
    let alreadyCurrent = 0;
    for (const row of rows) {
      if (row.apiKeyEncrypted === null) continue;
      if (cipher.keyIdOf(row.apiKeyEncrypted) === cipher.keyId) {
        alreadyCurrent += 1;
        continue;
      }
      let plain: string;
      try {
        plain = cipher.decrypt(row.apiKeyEncrypted);
      } catch (error) {
        throw new AppError('config', `AI configuration "${row.name}": ${(error as Error).message}`, {
          cause: error,
        });
      }
      await tx
        .update(aiConfigurations)
        .set({ apiKeyEncrypted: cipher.encrypt(plain) })
        .where(eq(aiConfigurations.id, row.id));
      rotated += 1;
    }
    return { total: rows.length, rotated, alreadyCurrent };
  });
}

async function reread(tx: Tx, id: string): Promise<AiConfigRow> {
  const [row] = await tx.select().from(aiConfigurations).where(eq(aiConfigurations.id, id));
  if (!row) throw new AppError('internal', 'AI configuration vanished inside its own transaction');
  return row;
}

async function getAiConfigIn(tx: Tx, name: string): Promise<AiConfigRow | null> {
  const [row] = await tx.select().from(aiConfigurations).where(eq(aiConfigurations.name, name));
  return row ?? null;
}

function duplicate(name: string): AppError {
  return new AppError('invalid_input', `An AI configuration named "${name}" already exists`, {
    code: 'already_exists',
  });
}

function needCipher(cipher: FieldCipher | null): FieldCipher {
  if (cipher) return cipher;
  throw new FieldKeyError(
    `FIELD_ENCRYPTION_KEY is not set; it is needed to store AI configuration API keys: ${KEY_HELP}`,
  );
}
