/**
 * The daily spend caps, checked before every model call. Today's spend (in TIMEZONE) of the user and of everyone
 * is read from the day's counters (db/spend.ts), which the database adds every recorded call to atomically, so
 * every worker sees every other worker's spend as soon as it is recorded. Once a cap is reached:
 * - without SPEND_CAP_FALLBACK_MODEL, the gate answers the user with a notice, once per day (a shared claimOnce
 *   key, so once across workers), and skips their later messages; no model is called;
 * - with it, the answer comes from that cheaper model instead, never silently: each such answer is logged (warn)
 *   and the reply records the model that wrote it.
 * SPEND_CAP_DAILY_USD caps everyone at once the same way, and alerts the operators at 80 % and at 100 %, once
 * each per day (the insert of a spend_alerts row is the claim, shared by every process).
 *
 * The race: spend is counted when a call is recorded, after it returned, so calls in flight are not yet counted.
 * A conversation is answered by one worker at a time (its lock), so a user can overshoot their cap by at most
 * what the answers already started for them cost (one answer per conversation of theirs: its calls, up to
 * MAX_FOLDS + 1 plus a fallback); the global cap by at most the answers in flight everywhere (workers ×
 * WORKER_CONCURRENCY, each bounded by the model's max tokens). README "Cost and spend caps" has the numbers.
 */
import { claimSpendAlert, spendOf, userSpendKey } from '../db/spend.js';
import { spendCappedNotice } from '../domain/user-messages.js';
import type { AiChoice } from '../ports.js';
import type { PipelineDeps } from './deps.js';
import { ANSWER, type Policy } from './gate.js';
import { capReached, type CapReached } from './pricing.js';

/** The operators' alert when the day's total spend crosses a threshold of SPEND_CAP_DAILY_USD. */
export interface SpendAlert {
  day: string;
  timezone: string;
  /** 80 or 100. */
  percent: number;
  spentMicros: number;
  capMicros: number;
}

const ALERT_PERCENTS = [80, 100] as const;
/** The notice's claim outlives the day in any time zone; the day is in the key. */
const NOTICE_CLAIM_MS = 26 * 3_600_000;

type Deps = Pick<PipelineDeps, 'db' | 'locks' | 'log' | 'pricing' | 'alertSpend'>;

/** The claimOnce key of a user's spend-cap notice for a day (what an erasure would reset, like the rate notice). */
export function spendNoticeKey(day: string, channel: string, userAddress: string): string {
  return `spend-notice:${day}:${channel}:${userAddress}`;
}

/**
 * Which cap, if any, stops a model call for this user now; sends the global alerts the day's spend has earned.
 * Null when no cap is configured (no read at all).
 */
export async function capFor(
  deps: Deps,
  user: { channel: string; userAddress: string },
  now: Date,
): Promise<CapReached> {
  const pricing = deps.pricing;
  if (!pricing || (pricing.userDailyCapMicros === 0 && pricing.dailyCapMicros === 0)) return null;
  const day = pricing.day(now);
  const spent = await spendOf(deps.db, day, userSpendKey(user.channel, user.userAddress));
  if (pricing.dailyCapMicros > 0)
    await alertThresholds(deps, day, spent.globalMicros, pricing.dailyCapMicros);
  return capReached(pricing, spent);
}

async function alertThresholds(
  deps: Deps,
  day: string,
  spentMicros: number,
  capMicros: number,
): Promise<void> {
  for (const percent of ALERT_PERCENTS) {
    if (spentMicros * 100 < capMicros * percent) continue;
    if (!(await claimSpendAlert(deps.db, day, percent, spentMicros))) continue;
    const alert: SpendAlert = {
      day,
      timezone: deps.pricing?.timezone ?? 'UTC',
      percent,
      spentMicros,
      capMicros,
    };
    deps.log.warn(alert, `model spend today reached ${percent} % of SPEND_CAP_DAILY_USD`);
    deps.alertSpend?.(alert);
  }
}

/**
 * The gate's policy, when capped users get a notice (no SPEND_CAP_FALLBACK_MODEL): over a cap, the first message
 * of the day gets the notice and the rest are skipped; no model is asked. With a cheaper model configured it lets
 * every message through (the generate stage switches models, withinSpendCap).
 */
export function spendCapPolicy(deps: Deps): Policy {
  return async (_message, conversation, now) => {
    if (deps.pricing?.cheaperModel) return ANSWER;
    const cap = await capFor(deps, conversation, now);
    if (cap === null) return ANSWER;
    const day = deps.pricing?.day(now) ?? '';
    const first = await deps.locks
      .claimOnce(spendNoticeKey(day, conversation.channel, conversation.userAddress), NOTICE_CLAIM_MS)
      .catch(() => true);
    deps.log.warn(
      { cap, day, notice: first },
      cap === 'user'
        ? "the user's model spend today reached SPEND_CAP_USER_DAILY_USD; no model call"
        : 'model spend today reached SPEND_CAP_DAILY_USD; no model call',
    );
    return first
      ? { kind: 'notice', reason: 'spend_capped', text: spendCappedNotice() }
      : { kind: 'skip', reason: 'spend_capped' };
  };
}

/**
 * The choice to answer with, given the caps: the same one, or (with SPEND_CAP_FALLBACK_MODEL, over a cap) the
 * cheaper model, logged. Without a cheaper model the gate has already kept capped users away from here.
 */
export async function withinSpendCap(
  deps: Deps,
  conversation: { channel: string; userAddress?: string | undefined },
  choice: AiChoice,
): Promise<AiChoice> {
  const cheaper = deps.pricing?.cheaperModel;
  if (!cheaper || conversation.userAddress === undefined) return choice;
  const cap = await capFor(
    deps,
    { channel: conversation.channel, userAddress: conversation.userAddress },
    new Date(),
  );
  if (cap === null) return choice;
  deps.log.warn(
    { cap, model: choice.model.model, cheaperModel: cheaper.model },
    `daily spend cap reached (${cap}): answering with the cheaper model SPEND_CAP_FALLBACK_MODEL`,
  );
  const switched: AiChoice = { ...choice, model: cheaper, fallback: undefined };
  // Its price is the table's: the configuration's own price was for its own model.
  delete switched.price;
  return switched;
}
