/**
 * Model spend in /metrics, read from the database's daily counters at scrape time (the same figures from every
 * process, whichever worker made the calls): today's spend (in TIMEZONE) in all, per business number and per
 * model; calls of models without a price; and the configured caps. Per user and per conversation figures are in
 * the admin and the API, not here: a label per user would be a series per user (unbounded).
 */
import { Gauge } from 'prom-client';
import type { CostSettings } from '../config/cost.js';
import type { Db } from '../db/connect.js';
import { spendOfBoundedScopes } from '../db/spend.js';
import { dayIn, microsToUsd } from '../domain/prices.js';
import type { Metrics } from './metrics.js';

type Reading = Awaited<ReturnType<typeof spendOfBoundedScopes>>;

/** One query per scrape, however many gauges read it (prom-client collects them one after the other). */
const READING_MS = 1000;

export function observeSpend(
  metrics: Pick<Metrics, 'registry'>,
  db: Db,
  cost: Pick<CostSettings, 'timezone' | 'userDailyCapMicros' | 'dailyCapMicros'>,
  now: () => Date = () => new Date(),
): void {
  let cached: { at: number; reading: Promise<Reading> } | undefined;
  const read = (): Promise<Reading> => {
    const at = Date.now();
    if (!cached || at - cached.at > READING_MS)
      cached = { at, reading: spendOfBoundedScopes(db, dayIn(now(), cost.timezone)) };
    return cached.reading;
  };
  const registers = [metrics.registry];

  new Gauge({
    name: 'chatbot_model_spend_today_usd',
    help:
      'Model spend today (the day in TIMEZONE) in US dollars, from the prices in force when each call was made: ' +
      'scope="global" (key="") for everyone, scope="number" per business number (<channel>:<number>), ' +
      'scope="model" per model; the same database-wide figures from every process',
    labelNames: ['scope', 'key'] as const,
    registers,
    async collect() {
      this.reset();
      try {
        const rows = await read();
        this.set({ scope: 'global', key: '' }, 0);
        for (const row of rows) this.set({ scope: row.scope, key: row.key }, microsToUsd(row.costMicros));
      } catch {
        // Database unreachable: no stale figures; the health endpoint says why.
      }
    },
  });

  new Gauge({
    name: 'chatbot_model_calls_today',
    help: 'Model calls recorded today (TIMEZONE), per model; unpriced="true" counts those of models without a price',
    labelNames: ['model', 'unpriced'] as const,
    registers,
    async collect() {
      this.reset();
      try {
        for (const row of await read()) {
          if (row.scope !== 'model') continue;
          this.set({ model: row.key, unpriced: 'false' }, row.calls - row.unpricedCalls);
          this.set({ model: row.key, unpriced: 'true' }, row.unpricedCalls);
        }
      } catch {
        // As above.
      }
    },
  });

  const caps = new Gauge({
    name: 'chatbot_spend_cap_usd',
    help: 'The daily spend caps in US dollars: scope="user" (SPEND_CAP_USER_DAILY_USD), "global" (SPEND_CAP_DAILY_USD); 0 = none',
    labelNames: ['scope'] as const,
    registers,
  });
  caps.set({ scope: 'user' }, microsToUsd(cost.userDailyCapMicros));
  caps.set({ scope: 'global' }, microsToUsd(cost.dailyCapMicros));
}
