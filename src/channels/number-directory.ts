/**
 * The deployment's business numbers: the environment's default ones (TWILIO_WHATSAPP_NUMBER, META_*) and the
 * `business_numbers` rows, read at most once per refresh interval by each process, so a number added with
 * `chatbot number add` is answered by running web and worker processes without a restart. A row for the same
 * address as an environment number refines it (persona, name, and any credentials it sets), and deactivates it
 * while the row is inactive. A row whose credentials do not decrypt is left out, said once in the log: it must
 * not stop the other numbers.
 */
import type { Config } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { listBusinessNumbers, type BusinessNumberRow } from '../db/business-numbers.js';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { BusinessNumber, NumberCredentials, NumberDirectory } from '../ports.js';

export interface NumberDirectoryOptions {
  db: Db;
  twilio: Config['twilio'];
  meta: Config['meta'];
  /** Decrypts a stored credentials value; throws when it cannot (no or wrong FIELD_ENCRYPTION_KEY). */
  decrypt: (stored: string) => string;
  refreshMs: number;
  /** A number not in the list is looked for again at most this often (default MISS_REREAD_MS). */
  missRereadMs?: number;
  log: Logger;
}

export interface CachedNumberDirectory extends NumberDirectory {
  /** Re-read the rows now (after a change made in this process: the CLI, the admin). */
  refresh(): Promise<void>;
}

/** The environment's numbers, which need no row. */
export function environmentNumbers(config: Pick<Config, 'twilio' | 'meta'>): BusinessNumber[] {
  const numbers: BusinessNumber[] = [];
  if (config.twilio)
    numbers.push({
      id: null,
      channel: 'twilio',
      address: config.twilio.whatsappNumber,
      name: config.twilio.whatsappNumber.replace(/^whatsapp:/, ''),
      aiConfigId: null,
      credentials: { accountSid: config.twilio.accountSid, authToken: config.twilio.authToken },
    });
  if (config.meta)
    numbers.push({
      id: null,
      channel: 'meta',
      address: config.meta.phoneNumberId,
      name: `Meta ${config.meta.phoneNumberId}`,
      aiConfigId: null,
      credentials: {
        accessToken: config.meta.accessToken,
        appSecret: config.meta.appSecret,
        verifyToken: config.meta.verifyToken,
      },
    });
  return numbers;
}

/**
 * A number not in the list is looked for again in the database at most this often, so a number added a moment
 * ago (`chatbot number add`) is answered at once rather than after the refresh interval.
 */
const MISS_REREAD_MS = 1000;

export function createNumberDirectory(options: NumberDirectoryOptions): CachedNumberDirectory {
  const fromEnvironment = environmentNumbers(options);
  // A Meta number of the same app as the environment's needs no secrets of its own: it takes META_*'s.
  const metaDefaults: NumberCredentials = options.meta
    ? {
        accessToken: options.meta.accessToken,
        appSecret: options.meta.appSecret,
        verifyToken: options.meta.verifyToken,
      }
    : {};
  let numbers: BusinessNumber[] = fromEnvironment;
  let readAt = -Infinity;
  /** The rows were read at least once, and the last read succeeded: an unknown number is really unknown. */
  let trustworthy = false;
  let reading: Promise<void> | null = null;
  const reported = new Set<string>();

  async function read(): Promise<void> {
    const rows = await listBusinessNumbers(options.db);
    // An inactive row at an environment number's address deactivates that number too: the only way to stop
    // answering on it without editing the environment and restarting (the admin's Numbers page, `chatbot number`).
    const deactivated = (number: BusinessNumber) =>
      rows.some((row) => !row.isActive && row.channel === number.channel && row.address === number.address);
    const merged = fromEnvironment.filter((number) => !deactivated(number)).map((number) => ({ ...number }));
    for (const row of rows) {
      if (!row.isActive) continue;
      const credentials = decryptCredentials(row);
      if (credentials === null) continue;
      const inherited = row.channel === 'meta' ? { ...metaDefaults, ...credentials } : credentials;
      const fromRow = toBusinessNumber(row, inherited);
      const index = merged.findIndex((n) => n.channel === row.channel && n.address === row.address);
      if (index === -1) merged.push(fromRow);
      else {
        const base = merged[index] as BusinessNumber;
        merged[index] = { ...fromRow, credentials: { ...base.credentials, ...credentials } };
      }
    }
    numbers = merged;
    readAt = Date.now();
    trustworthy = true;
  }

  function decryptCredentials(row: BusinessNumberRow): NumberCredentials | null {
    if (row.credentialsEncrypted === null) return {};
    try {
      return JSON.parse(options.decrypt(row.credentialsEncrypted)) as NumberCredentials;
    } catch (error) {
      const key = `${row.id}:${row.updatedAt.getTime()}`;
      if (!reported.has(key)) {
        reported.add(key);
        options.log.error(
          { err: error, number: row.address, channel: row.channel },
          'business number left out: its credentials cannot be decrypted (FIELD_ENCRYPTION_KEY?)',
        );
      }
      return null;
    }
  }

  async function current(): Promise<BusinessNumber[]> {
    if (Date.now() - readAt >= options.refreshMs) {
      reading ??= read()
        .catch((error: unknown) => {
          // A database blip keeps the last known numbers (the environment's at worst) answering.
          options.log.warn({ err: error }, 'business numbers could not be re-read; keeping the last known');
          readAt = Date.now();
          trustworthy = false;
        })
        .finally(() => {
          reading = null;
        });
      await reading;
    }
    return numbers;
  }

  return {
    async list(channel) {
      return (await current()).filter((n) => n.channel === channel);
    },
    async find(channel, address) {
      const match = (list: BusinessNumber[]) =>
        list.find((n) => n.channel === channel && n.address === address) ?? null;
      const found = match(await current());
      if (found) return found;
      if (trustworthy && Date.now() - readAt >= (options.missRereadMs ?? MISS_REREAD_MS)) {
        readAt = -Infinity;
        const again = match(await current());
        if (again) return again;
      }
      // Saying "not ours" while the database cannot be read would acknowledge and drop a message to a number
      // added with `chatbot number add`: the channel is asked to retry instead (503; the worker's job retries).
      if (!trustworthy)
        throw new AppError(
          'database_unavailable',
          `cannot tell whether ${address} is one of our numbers: the business numbers could not be read`,
        );
      return null;
    },
    async refresh() {
      readAt = -Infinity;
      await current();
    },
  };
}

function toBusinessNumber(row: BusinessNumberRow, credentials: NumberCredentials): BusinessNumber {
  return {
    id: row.id,
    channel: row.channel === 'meta' ? 'meta' : 'twilio',
    address: row.address,
    name: row.name ?? row.address.replace(/^whatsapp:/, ''),
    aiConfigId: row.aiConfigId,
    credentials,
  };
}
