import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { validate, type Config } from '../config/load.js';
import { listAiConfigs } from '../db/ai-configs.js';
import { connectDb, type Database } from '../db/connect.js';
import { rowsOf } from '../db/rows.js';
import { silentLogger } from '../log.js';
import { fieldCipherFrom, requireFieldCipher } from '../security/field-encryption.js';
import { line } from './context.js';
import { EXIT } from './errors.js';
import { metaNumberChecks, type NamedCheck } from './validate-meta.js';

const CHECK_TIMEOUT_MS = 15_000;

export function registerValidateConfig(program: Command): void {
  program
    .command('validate-config')
    .description(
      'check every setting, then really connect to PostgreSQL, Redis, Twilio, Meta and the AI provider',
    )
    .option('--skip-external', 'check the settings only; connect to nothing')
    .addHelpText(
      'after',
      '\nPrints one line per check (✓ passed, ✗ failed, · information). Exit code 0 when everything passed,\n' +
        '1 when a connection check failed, 2 when the settings themselves are invalid.\n\n' +
        'Examples:\n  chatbot validate-config\n  chatbot validate-config --skip-external',
    )
    .action(async (options: { skipExternal?: boolean }) => {
      process.exitCode = await validateConfig(options.skipExternal === true);
    });
}

async function validateConfig(skipExternal: boolean): Promise<number> {
  const result = validate(process.env);
  if (!result.ok) {
    for (const problem of result.problems) line.fail(problem);
    console.log(
      `\n${result.problems.length} problem(s); fix them in the environment or .env (see .env.example).`,
    );
    return EXIT.usage;
  }
  const { config, warnings } = result;
  line.ok(`settings: valid (NODE_ENV=${config.env})`);
  // Every warning, whichever process would say it: this checks the whole configuration.
  for (const warning of warnings) line.info(`warning: ${warning.text}`);
  describeSettings(config);
  if (skipExternal) {
    line.info('connection checks skipped (--skip-external)');
    return EXIT.ok;
  }
  const checks = new Checks();
  const database = await checks.run('PostgreSQL', () => checkDatabase(config));
  let meta: NamedCheck[] = [];
  if (database) {
    await checks.run('AI configurations', () => checkStoredKeys(config, database));
    await checks.run('AI provider', () => checkAi(config, database));
    meta = await metaNumberChecks(config, database).catch((error: unknown) => {
      checks.failed = true;
      line.fail(`Meta numbers: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    });
    await database.close();
  } else {
    await checks.run('AI provider', () => checkAi(config, null));
    meta = await metaNumberChecks(config, null);
  }
  const redis = config.redis;
  if (redis.kind === 'redis') await checks.run('Redis', () => checkRedis(redis.url));
  else line.info('Redis: not configured (in-process queue and cache: one process only)');
  if (config.twilio) await checks.run('Twilio', () => checkTwilio(config));
  else line.info('Twilio: not configured (no WhatsApp; the simulator can stand in)');
  for (const { name, check } of meta) await checks.run(name, check);
  if (meta.length === 0)
    line.info('Meta: no number configured (META_* or `chatbot number add --channel meta`)');
  return checks.failed ? EXIT.failure : EXIT.ok;
}

function describeSettings(config: Config): void {
  const key = fieldCipherFrom(config.fieldEncryption);
  if (key) line.ok(`FIELD_ENCRYPTION_KEY: set (key id ${key.keyId})`);
  else line.info('FIELD_ENCRYPTION_KEY: not set (needed only to store AI configurations with API keys)');
  if (config.fieldEncryption.previousKey) {
    line.info(
      'FIELD_ENCRYPTION_KEY_PREVIOUS: set (a rotation is under way: run `chatbot ai-config rotate-key`, then remove it)',
    );
  }
}

// The SDKs (twilio, openai, anthropic, ioredis) are imported by the checks that use them, so --help and
// --skip-external stay quick.

/** Runs each check with a deadline and prints its line; the value it returns is handed back on success. */
class Checks {
  failed = false;
  async run<T>(name: string, check: () => Promise<{ detail: string; value: T }>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`));
      }, CHECK_TIMEOUT_MS);
    });
    try {
      const { detail, value } = await Promise.race([check(), deadline]);
      line.ok(`${name}: ${detail}`);
      return value;
    } catch (error) {
      this.failed = true;
      line.fail(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function checkDatabase(config: Config) {
  const database = await connectDb(config.database);
  try {
    const [row] = rowsOf<{ version: string; tables: boolean }>(
      await database.db.execute(
        sql`select current_setting('server_version') as version, to_regclass('ai_configurations') is not null as tables`,
      ),
    );
    if (row?.tables !== true) throw new Error('connected, but the schema is missing: run `chatbot migrate`');
    const where = config.database.kind === 'pglite' ? `PGlite at ${config.database.dataDir}` : 'connected';
    return { detail: `${where} (server ${row.version}), schema present`, value: database };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Every stored API key must decrypt with the configured key(s); otherwise activating that row would fail. */
async function checkStoredKeys(config: Config, database: Database) {
  const rows = await listAiConfigs(database.db);
  const active = rows.find((row) => row.isActive);
  const summary = `${rows.length} stored, ${active ? `"${active.name}" active` : 'none active (environment settings in use)'}`;
  const withKeys = rows.filter((row) => row.apiKeyEncrypted !== null);
  if (withKeys.length === 0) return { detail: summary, value: null };
  const cipher = requireFieldCipher(config.fieldEncryption, 'read the stored AI configuration keys');
  const broken: string[] = [];
  for (const row of withKeys) {
    try {
      cipher.decrypt(row.apiKeyEncrypted ?? '');
    } catch (error) {
      broken.push(`"${row.name}": ${(error as Error).message}`);
    }
  }
  if (broken.length > 0) throw new Error(`keys that do not decrypt: ${broken.join('; ')}`);
  return { detail: `${summary}; every stored key decrypts`, value: null };
}

/** A tiny completion through the same runtime the workers use, so the active configuration is what is tested. */
async function checkAi(config: Config, database: Database | null) {
  const [{ createAiRuntime }, { createChatModel }] = await Promise.all([
    import('../ai/runtime.js'),
    import('../ai/select.js'),
  ]);
  const runtime = database
    ? createAiRuntime({
        db: database.db,
        envSettings: config.ai,
        decrypt: (stored) =>
          requireFieldCipher(config.fieldEncryption, 'read AI configuration keys').decrypt(stored),
        appUrl: config.http.publicBaseUrl,
        log: silentLogger(),
      })
    : null;
  const choice = runtime ? await runtime.refresh() : null;
  if (choice?.problem) throw new Error(`the active configuration cannot be used: ${choice.problem}`);
  const model = choice?.model ?? createChatModel(config.ai, { appUrl: config.http.publicBaseUrl });
  const source = choice?.configName ? `configuration "${choice.configName}"` : 'environment settings';
  if (model.provider === 'offline')
    return { detail: `offline provider (no AI key set; automatic replies), ${source}`, value: null };
  const started = performance.now();
  const result = await model.complete({
    messages: [{ role: 'user', content: 'Reply with the single word: ok' }],
    maxTokens: 16,
    temperature: 0,
  });
  const ms = Math.round(performance.now() - started);
  return { detail: `${model.provider} ${result.model} answered in ${ms} ms (${source})`, value: null };
}

async function checkRedis(url: string) {
  const { createRedis, waitForRedis } = await import('../infra/redis/connect.js');
  const redis = createRedis(url, { purpose: 'commands' });
  try {
    await waitForRedis(redis, 5000);
    const pong = await redis.ping();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return { detail: `${pong} (server ${version})`, value: null };
  } finally {
    redis.disconnect();
  }
}

async function checkTwilio(config: Config) {
  if (!config.twilio) throw new Error('not configured');
  const { fetchTwilioAccount } = await import('../channels/twilio/channel.js');
  const account = await fetchTwilioAccount(config.twilio);
  if (account.status !== 'active') throw new Error(`account ${account.sid} is ${account.status}, not active`);
  return {
    detail: `account ${account.sid} (${account.friendlyName}) is active; sender ${config.twilio.whatsappNumber}`,
    value: null,
  };
}
