/**
 * The deployment's business numbers: the environment's default ones (TWILIO_WHATSAPP_NUMBER, META_*) and the
 * `business_numbers` rows, read at most once per refresh interval by each process, so a number added with
 * `chatbot number add` is answered by running web and worker processes without a restart. A row for the same
 * address as an environment number refines it (persona, name, and any credentials it sets). A row whose
 * credentials do not decrypt is left out, said once in the log: it must not stop the other numbers.
 */
import type { Config } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { listBusinessNumbers, type BusinessNumberRow } from '../db/business-numbers.js';
import type { Logger } from '../log.js';
import type { BusinessNumber, NumberCredentials, NumberDirectory } from '../ports.js';

export interface NumberDirectoryOptions {
  db: Db;
  twilio: Config['twilio'];
  meta: Config['meta'];
  /** Decrypts a stored credentials value; throws when it cannot (no or wrong FIELD_ENCRYPTION_KEY). */
  decrypt: (stored: string) => string;
  refreshMs: number;
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

export function createNumberDirectory(options: NumberDirectoryOptions): CachedNumberDirectory {
  const fromEnvironment = environmentNumbers(options);
  let numbers: BusinessNumber[] = fromEnvironment;
  let readAt = -Infinity;
  let reading: Promise<void> | null = null;
  const reported = new Set<string>();

  async function read(): Promise<void> {
    const rows = await listBusinessNumbers(options.db, { activeOnly: true });
    const merged = fromEnvironment.map((number) => ({ ...number }));
    for (const row of rows) {
      const credentials = decryptCredentials(row);
      if (credentials === null) continue;
      const fromRow = toBusinessNumber(row, credentials);
      const index = merged.findIndex((n) => n.channel === row.channel && n.address === row.address);
      if (index === -1) merged.push(fromRow);
      else {
        const base = merged[index] as BusinessNumber;
        merged[index] = { ...fromRow, credentials: { ...base.credentials, ...credentials } };
      }
    }
    numbers = merged;
    readAt = Date.now();
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
      return (await current()).find((n) => n.channel === channel && n.address === address) ?? null;
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
