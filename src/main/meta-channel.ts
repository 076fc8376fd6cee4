/**
 * The Meta channel as the composition root builds it: over the number directory (tokens per number), with
 * findSent reading the part's stored wamid from `deliveries`, and a health entry made of local knowledge only.
 */
import { createMetaChannel, type MetaChannel } from '../channels/meta/channel.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { sentPart } from '../db/deliveries.js';
import type { HealthCheck } from '../http/health.js';
import type { ErrorReporter } from '../errors/reporter.js';
import type { Logger } from '../log.js';
import { createMetaStatusWatch } from '../observability/meta-status-watch.js';
import type { NumberDirectory } from '../ports.js';

export interface ComposedMeta {
  channel: MetaChannel;
  /** The Meta numbers known at start (the banner's line); more may come from the database later. */
  numbersAtStart: readonly string[];
  health: HealthCheck;
}

/**
 * Always built, even with no Meta number yet: a number added later with `chatbot number add --channel meta` is
 * answered without a restart, and a deployment without any simply never has a Meta conversation to send to.
 */
export async function composeMetaChannel(
  config: Pick<Config, 'graphApi' | 'meta'>,
  numbers: NumberDirectory,
  database: { db: Db; ready: boolean },
  log: Logger,
  /** Alerts when Meta's status webhooks stop arriving while this process sends (absent in some tests). */
  errors?: ErrorReporter,
): Promise<ComposedMeta> {
  const { db } = database;
  const watch =
    errors &&
    createMetaStatusWatch({
      db,
      log,
      report: (error, context) => void errors.report(error, { severity: 'HIGH', context }),
    });
  const channel = createMetaChannel({
    graph: config.graphApi,
    numbers,
    sentPart: (partId) => sentPart(db, partId),
    log,
    ...(watch ? { onSent: (wamid: string) => watch.sent(wamid) } : {}),
  });
  // The stored numbers are read now only from a database that answers: one that is down must not hold up the
  // start (the directory reads them again once it is back); the environment's number is known either way.
  const numbersAtStart = database.ready
    ? await channel.refreshSenders()
    : config.meta
      ? [config.meta.phoneNumberId]
      : [];
  return {
    channel,
    numbersAtStart,
    // Never a call to Meta (a probe every few seconds would spend the number's rate limit and make the web role's
    // health depend on Meta's): the numbers this process knows and how its own last send went. `chatbot
    // validate-config` asks Meta itself. Never "down": a Meta problem must not get a healthy process restarted.
    health: async () => {
      const known = await channel.refreshSenders();
      const { lastSentAt, lastError } = channel.state();
      return {
        numbers: known.length,
        lastSentAt: lastSentAt?.toISOString() ?? null,
        lastSendError: lastError && { ...lastError, at: lastError.at.toISOString() },
      };
    },
  };
}
