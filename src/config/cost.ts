/**
 * Cost settings: the price table (the defaults, with MODEL_PRICES_FILE over them), the time zone of "today" and
 * the daily spend caps. A price file that cannot be read or parsed stops the start with its problems listed,
 * like any other bad setting: answering with a silently wrong price table would make every cap wrong.
 */
import { readFileSync } from 'node:fs';
import {
  DEFAULT_PRICES,
  isTimeZone,
  parsePriceTable,
  usdToMicros,
  type PriceTable,
} from '../domain/prices.js';
import type { Env } from './schema.js';

export interface CostSettings {
  /** The defaults with MODEL_PRICES_FILE's entries over them. */
  prices: PriceTable;
  /** Where the table came from, for the start banner and validate-config. */
  pricesSource: string;
  /** TIMEZONE: the day of the daily caps and figures. */
  timezone: string;
  /** SPEND_CAP_USER_DAILY_USD in micro-dollars; 0 = none. */
  userDailyCapMicros: number;
  /** SPEND_CAP_DAILY_USD in micro-dollars; 0 = none. */
  dailyCapMicros: number;
}

export function costSettings(env: Env, problems: string[]): CostSettings {
  if (!isTimeZone(env.TIMEZONE))
    problems.push(`TIMEZONE: "${env.TIMEZONE}" is not an IANA time zone (e.g. UTC, Europe/Madrid)`);
  let prices: PriceTable = DEFAULT_PRICES;
  let pricesSource = 'built-in defaults';
  const file = env.MODEL_PRICES_FILE;
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`MODEL_PRICES_FILE: ${file} cannot be read (${code})`);
    }
    if (text !== undefined) {
      const parsed = parsePriceTable(text);
      if ('problems' in parsed)
        problems.push(...parsed.problems.map((p) => `MODEL_PRICES_FILE: ${file}: ${p}`));
      else {
        prices = { ...DEFAULT_PRICES, ...parsed.table };
        pricesSource = `${file} (${Object.keys(parsed.table).length} model(s)) over the built-in defaults`;
      }
    }
  }
  return {
    prices,
    pricesSource,
    timezone: isTimeZone(env.TIMEZONE) ? env.TIMEZONE : 'UTC',
    userDailyCapMicros: usdToMicros(env.SPEND_CAP_USER_DAILY_USD),
    dailyCapMicros: usdToMicros(env.SPEND_CAP_DAILY_USD),
  };
}
