/**
 * Turning model calls into money, and the daily spend caps' settings, for the pipeline. Every call is priced when
 * it is made (the price in force then: the AI configuration's own, else MODEL_PRICES_FILE, else the defaults) and
 * carries its cost and its day (in TIMEZONE) to the record, where a trigger adds it to the day's spend
 * (db/spend.ts). A model without a price is recorded with a null cost, counted as unpriced, and logged once per
 * model by this process.
 */
import type { ModelCallRecord } from '../db/messages.js';
import { costMicros, dayIn, priceFor, type ModelPrice, type PriceTable } from '../domain/prices.js';
import type { Logger } from '../log.js';
import type { ChatModel } from '../ports.js';

export interface Pricing {
  /** TIMEZONE: the day of the daily caps and figures. */
  readonly timezone: string;
  /** SPEND_CAP_USER_DAILY_USD in micro-dollars; 0 = none. */
  readonly userDailyCapMicros: number;
  /** SPEND_CAP_DAILY_USD in micro-dollars; 0 = none. */
  readonly dailyCapMicros: number;
  /** SPEND_CAP_FALLBACK_MODEL: answers capped users instead of a notice; null: they get the notice. */
  readonly cheaperModel: ChatModel | null;
  /** The day (YYYY-MM-DD in TIMEZONE) of an instant. */
  day(at: Date): string;
  /** The call with its cost and day. `price` is the AI configuration's own, when it has one. */
  price(call: ModelCallRecord, configuredModel: string, own?: ModelPrice | null): ModelCallRecord;
}

export interface PricingOptions {
  prices: PriceTable;
  timezone: string;
  userDailyCapMicros: number;
  dailyCapMicros: number;
  cheaperModel?: ChatModel | null;
  log: Logger;
  /** The clock (tests of the day boundary pass their own). */
  now?: () => Date;
}

export function createPricing(options: PricingOptions): Pricing {
  const { prices, timezone, log } = options;
  const now = options.now ?? (() => new Date());
  const unpricedLogged = new Set<string>();
  return {
    timezone,
    userDailyCapMicros: options.userDailyCapMicros,
    dailyCapMicros: options.dailyCapMicros,
    cheaperModel: options.cheaperModel ?? null,
    day: (at) => dayIn(at, timezone),
    price(call, configuredModel, own) {
      // Priced by the name it is configured with (the file's keys), not the dated name a provider answers with.
      const price = priceFor(configuredModel, prices, own);
      if (!price && !unpricedLogged.has(configuredModel)) {
        unpricedLogged.add(configuredModel);
        // A warning only where money is capped (an unpriced model's calls never reach a cap); otherwise a note.
        const capped = options.userDailyCapMicros > 0 || options.dailyCapMicros > 0;
        log[capped ? 'warn' : 'info'](
          { model: configuredModel, provider: call.provider },
          'model has no price: its calls are recorded without a cost and count as unpriced (add it to MODEL_PRICES_FILE)',
        );
      }
      return {
        ...call,
        costMicros: price ? costMicros(call.usage, price) : null,
        spendDay: dayIn(now(), timezone),
      };
    },
  };
}

/** The capped figures of a user's day: which cap is reached, if any. */
export type CapReached = 'user' | 'global' | null;

export function capReached(
  pricing: Pick<Pricing, 'userDailyCapMicros' | 'dailyCapMicros'>,
  spent: { userMicros: number; globalMicros: number },
): CapReached {
  if (pricing.dailyCapMicros > 0 && spent.globalMicros >= pricing.dailyCapMicros) return 'global';
  if (pricing.userDailyCapMicros > 0 && spent.userMicros >= pricing.userDailyCapMicros) return 'user';
  return null;
}
