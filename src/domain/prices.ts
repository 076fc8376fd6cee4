/**
 * What a model call costs. Prices are US dollars per million tokens, input (prompt) and output (completion), as
 * providers publish them; money is counted in integer micro-dollars (1 µ$ = $0.000001), so sums in SQL and in
 * counters are exact. A call of N input and M output tokens at (i, o) $/M costs N·i + M·o micro-dollars exactly
 * (a million tokens at $1/M is $1 = 1,000,000 µ$); it is rounded to a whole micro-dollar per call, at most half a
 * micro-dollar off ($0.50 per million calls).
 */
import type { TokenUsage } from './types.js';

export interface ModelPrice {
  /** US dollars per million input (prompt) tokens. */
  input: number;
  /** US dollars per million output (completion) tokens. */
  output: number;
}

/** Model name (as configured: `gpt-4o-mini`, `openai/gpt-4o-mini`, `claude-sonnet-4-5`) → its price. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * List prices of common models at the time of writing (USD per million tokens, standard tier, no caching or
 * batch discounts). They change: MODEL_PRICES_FILE overrides any of them, and an AI configuration can carry its
 * own price. OpenRouter's `vendor/model` names find these through their last part (priceFor).
 */
export const DEFAULT_PRICES: PriceTable = {
  offline: { input: 0, output: 0 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-0': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku-latest': { input: 0.8, output: 4 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
};

/**
 * The price of a model by the name it is configured with: the configuration's own price first, then the table
 * (MODEL_PRICES_FILE over the defaults) by the exact name, then the table by the name's last `/` part
 * (`openai/gpt-4o-mini` → `gpt-4o-mini`). Null: the model has no known price.
 */
export function priceFor(model: string, table: PriceTable, own?: ModelPrice | null): ModelPrice | null {
  if (own) return own;
  if (Object.hasOwn(table, model)) return table[model] ?? null;
  const bare = model.slice(model.lastIndexOf('/') + 1);
  return bare !== model && Object.hasOwn(table, bare) ? (table[bare] ?? null) : null;
}

/** A call's cost in whole micro-dollars; a call that reported no usage (it failed) cost nothing we know of. */
export function costMicros(usage: TokenUsage | null, price: ModelPrice): number {
  if (!usage) return 0;
  return Math.round(usage.inputTokens * price.input + usage.outputTokens * price.output);
}

/** Dollars (as configured: SPEND_CAP_*_USD, prices) to micro-dollars. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** Micro-dollars as dollars, for display and JSON (`0.000123`). */
export function microsToUsd(micros: number): number {
  return micros / 1_000_000;
}

/** `$0.0012`: enough digits that a single cheap reply does not read as $0.00. */
export function formatUsd(micros: number | null): string {
  if (micros === null) return '—';
  const usd = microsToUsd(micros);
  if (usd === 0) return '$0';
  if (Math.abs(usd) >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/**
 * The calendar day (YYYY-MM-DD) of an instant in an IANA time zone: what "today" means for the daily caps and
 * the daily figures (TIMEZONE).
 */
export function dayIn(at: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** Whether Intl knows the zone (checked at start, so a typo in TIMEZONE stops the start, not the first answer). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A price file's content (MODEL_PRICES_FILE): a JSON object of model name → {"input": n, "output": n}, both
 * dollars per million tokens, at least 0. Every problem is listed, with the model it is about.
 */
export function parsePriceTable(text: string): { table: PriceTable } | { problems: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problems: [`not valid JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { problems: ['must be a JSON object: {"<model>": {"input": 0.15, "output": 0.6}}'] };
  const problems: string[] = [];
  const table: Record<string, ModelPrice> = {};
  for (const [model, entry] of Object.entries(parsed)) {
    if (model.trim() === '') {
      problems.push('a model name is empty');
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`"${model}": must be an object {"input": <USD per 1M tokens>, "output": <USD per 1M>}`);
      continue;
    }
    const fields = entry as Record<string, unknown>;
    const extra = Object.keys(fields).filter((key) => key !== 'input' && key !== 'output');
    if (extra.length > 0)
      problems.push(`"${model}": unknown field(s) ${extra.join(', ')} (only input, output)`);
    const price: Partial<ModelPrice> = {};
    for (const side of ['input', 'output'] as const) {
      const value = fields[side];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        problems.push(`"${model}".${side}: must be a number ≥ 0 (US dollars per million tokens)`);
      else price[side] = value;
    }
    if (price.input !== undefined && price.output !== undefined)
      table[model] = { input: price.input, output: price.output };
  }
  return problems.length > 0 ? { problems } : { table };
}
