/**
 * `chatbot validate-config`'s Meta checks: every Meta number (the environment's default and the active
 * `business_numbers` rows) is asked about itself with its own token. Whether the app's webhook is subscribed is
 * read from the WhatsApp Business Account (`GET /{waba-id}/subscribed_apps`), whose id Meta's own webhooks name
 * (webhook_logs): before the first webhook for a number it is unknown, and said so, never guessed.
 */
import type { Config } from '../config/load.js';
import { listBusinessNumbers } from '../db/business-numbers.js';
import { businessAccountOf } from '../db/webhook-logs.js';
import type { Database } from '../db/connect.js';
import type { NumberCredentials } from '../ports.js';
import { requireFieldCipher } from '../security/field-encryption.js';

export interface NamedCheck {
  name: string;
  check: () => Promise<{ detail: string; value: null }>;
}

interface MetaNumberToCheck {
  phoneNumberId: string;
  source: string;
  token: string | undefined;
  /** Why the token could not be read, when it could not. */
  problem?: string;
  /** The WhatsApp Business Account, from the newest webhook Meta sent for this number; null: none yet. */
  businessAccountId: string | null;
}

/** One check per Meta number; empty when there is none. Reads the rows now (the database closes after). */
export async function metaNumberChecks(config: Config, database: Database | null): Promise<NamedCheck[]> {
  const numbers: MetaNumberToCheck[] = [];
  if (config.meta)
    numbers.push({
      phoneNumberId: config.meta.phoneNumberId,
      source: 'META_*',
      token: config.meta.accessToken,
      businessAccountId: null,
    });
  if (database) {
    const rows = await listBusinessNumbers(database.db, { activeOnly: true, channel: 'meta' });
    for (const row of rows) {
      const known = numbers.find((n) => n.phoneNumberId === row.address);
      const read = readCredentials(config, row.credentialsEncrypted);
      const entry = {
        phoneNumberId: row.address,
        source: `number "${row.name ?? row.address}"`,
        token: read.credentials?.accessToken ?? known?.token,
        businessAccountId: null,
        ...(read.problem ? { problem: read.problem } : {}),
      };
      if (known) Object.assign(known, entry);
      else numbers.push(entry);
    }
  }
  if (database)
    for (const number of numbers)
      number.businessAccountId = await businessAccountOf(database.db, number.phoneNumberId);
  return numbers.map((number) => ({
    name: `Meta ${number.phoneNumberId}`,
    check: () => checkNumber(config, number),
  }));
}

function readCredentials(
  config: Config,
  stored: string | null,
): { credentials?: NumberCredentials; problem?: string } {
  if (stored === null) return {};
  try {
    const cipher = requireFieldCipher(config.fieldEncryption, 'read business number credentials');
    return { credentials: JSON.parse(cipher.decrypt(stored)) as NumberCredentials };
  } catch (error) {
    return { problem: `its credentials do not decrypt: ${(error as Error).message}` };
  }
}

async function checkNumber(config: Config, number: MetaNumberToCheck) {
  if (number.problem) throw new Error(`${number.source}: ${number.problem}`);
  if (!number.token) throw new Error(`${number.source}: no access token`);
  const { fetchMetaNumber, fetchSubscribedApps } = await import('../channels/meta/number-check.js');
  const info = await fetchMetaNumber(config.graphApi, number.phoneNumberId, number.token);
  let subscription =
    'webhook subscription not checked yet (its WhatsApp Business Account id comes with the first webhook from Meta)';
  if (number.businessAccountId !== null) {
    const apps = await fetchSubscribedApps(config.graphApi, number.businessAccountId, number.token);
    if (apps.length === 0)
      throw new Error(
        `${number.source}: no app is subscribed to the webhooks of WhatsApp Business Account ` +
          `${number.businessAccountId}, so Meta delivers its messages to nobody: subscribe the app ` +
          "(POST /{waba-id}/subscribed_apps, or the app dashboard's WhatsApp › Configuration)",
      );
    subscription = `webhook subscribed (account ${number.businessAccountId}: ${apps.join(', ')})`;
  }
  const who = [info.displayPhoneNumber, info.verifiedName && `(${info.verifiedName})`]
    .filter(Boolean)
    .join(' ');
  return {
    detail:
      `${who || 'reachable'}, quality ${info.qualityRating ?? 'not reported'}; token valid (${number.source}); ` +
      subscription,
    value: null,
  };
}
