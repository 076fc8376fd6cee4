/**
 * "Test" on an AI configuration page: one real call through that configuration (its provider, key, model and
 * base URL, the environment filling what it leaves empty), timed. Failures come back as the AppError kind the
 * pipeline would see, so the operator learns what the worker would run into. Activation (admin and CLI) runs
 * the same test first: activateIfItAnswers.
 */
import { settingsFromAiConfig } from '../ai/runtime.js';
import { createChatModel } from '../ai/select.js';
import type { AiSettings } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { activateAiConfig, type AiConfigRow } from '../db/ai-configs.js';
import { isAppError } from '../domain/errors.js';
import type { Redact } from '../errors/redact.js';
import type { FieldCipher } from '../security/field-encryption.js';

export type AiTestResult =
  | { ok: true; text: string; model: string; latencyMs: number; inputTokens: number; outputTokens: number }
  | AiTestFailure;

export interface AiTestFailure {
  ok: false;
  kind: string;
  message: string;
  latencyMs: number;
}

export interface AiTestInput {
  prompt: string;
  environment: AiSettings;
  cipher: FieldCipher | null;
  appUrl: string | undefined;
  redact: Redact;
}

/** `forced`: it failed its test and was activated anyway. */
export type Activation =
  | { activated: true; row: AiConfigRow; test: AiTestResult; forced: boolean }
  | { activated: false; test: AiTestFailure };

export const DEFAULT_TEST_PROMPT = 'In one short sentence: are you working?';

const EXPLAIN: Record<string, string> = {
  ai_auth: 'The provider refused the API key.',
  ai_rate_limited: 'The provider is rate limiting this key; try again later.',
  ai_timeout: 'The model did not answer in time.',
  ai_bad_request: 'The provider refused the request (often an unknown model name).',
  ai_unavailable: 'The provider could not be reached or failed.',
  config: 'The configuration cannot be used as it is.',
};

export async function testAiConfig(row: AiConfigRow, input: AiTestInput): Promise<AiTestResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const settings = settingsFromAiConfig(row, input.environment, (stored) => {
      if (!input.cipher) throw new Error('FIELD_ENCRYPTION_KEY is not set');
      return input.cipher.decrypt(stored);
    });
    const model = createChatModel(settings, input.appUrl ? { appUrl: input.appUrl } : {});
    const result = await model.complete(
      {
        messages: [
          { role: 'system', content: settings.systemPrompt },
          { role: 'user', content: input.prompt },
        ],
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
      },
      AbortSignal.timeout(settings.timeoutMs + 1000),
    );
    return {
      ok: true,
      text: result.text,
      model: result.model,
      latencyMs: elapsed(),
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
    };
  } catch (error) {
    const kind = isAppError(error) ? error.kind : 'internal';
    // Our adapters never put the key in a message; redact anyway, the page is shown in a browser.
    const detail = error instanceof Error ? input.redact(error.message) : 'unexpected failure';
    return {
      ok: false,
      kind,
      message: `${EXPLAIN[kind] ?? 'The call failed.'} ${detail}`,
      latencyMs: elapsed(),
    };
  }
}

/**
 * Make `row` the active configuration only if its live test answers, or anyway with `force` (the test still
 * runs, so the caller can say what is wrong). Refused, nothing changes: the previous active one stays active.
 */
export async function activateIfItAnswers(
  db: Db,
  row: AiConfigRow,
  input: AiTestInput,
  options: { force: boolean },
): Promise<Activation> {
  const test = await testAiConfig(row, input);
  if (!test.ok && !options.force) return { activated: false, test };
  const activated = await activateAiConfig(db, { id: row.id });
  return { activated: true, row: activated, test, forced: !test.ok };
}
