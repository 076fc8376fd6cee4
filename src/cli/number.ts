/**
 * `chatbot number add|list|update|remove`: the business numbers beyond the environment's default one, each with
 * its persona (an AI configuration) and, when it needs them, its own credentials. Secrets are read from stdin
 * only (never argv, which other users of the machine can read): with several `--…-stdin` flags, one per line, in
 * the order access token, app secret, auth token. Running web and worker processes pick a change up within
 * AI_CONFIG_REFRESH_SECONDS.
 */
import { Command, Option } from 'commander';
import { getAiConfig } from '../db/ai-configs.js';
import { listBusinessNumbers, type BusinessNumberRow, type NumberChannel } from '../db/business-numbers.js';
import { CLI_ACTOR } from '../domain/roles.js';
import { addNumber, changeNumber, removeNumber, type NumberDeps } from '../inbox/business-numbers.js';
import type { NumberCredentials } from '../ports.js';
import { cipherFor, cliConfig, line, printJson, readStdin, withDatabase } from './context.js';
import { usageError } from './errors.js';

interface SecretFlags {
  accessTokenStdin?: boolean;
  appSecretStdin?: boolean;
  authTokenStdin?: boolean;
  verifyToken?: string;
  accountSid?: string;
}

function credentialOptions(command: Command): Command {
  return command
    .option('--access-token-stdin', 'Meta: read the permanent access token from stdin')
    .option('--app-secret-stdin', "Meta: read the app secret from stdin (checks the webhook's signature)")
    .option('--verify-token <token>', "Meta: the webhook's verify token (a value you choose)")
    .option('--account-sid <sid>', "Twilio: the number's own account SID (another Twilio account)")
    .option('--auth-token-stdin', "Twilio: read that account's auth token from stdin");
}

/** The credentials the flags give; the secrets from stdin, one line each in the documented order. */
async function credentialsFrom(options: SecretFlags): Promise<NumberCredentials> {
  const wanted = (
    [
      ['accessToken', options.accessTokenStdin],
      ['appSecret', options.appSecretStdin],
      ['authToken', options.authTokenStdin],
    ] as const
  ).filter(([, flag]) => flag === true);
  const credentials: NumberCredentials = {};
  if (wanted.length > 0) {
    const lines = (await readStdin()).split(/\r?\n/).map((value) => value.trim());
    if (lines.length < wanted.length || lines.slice(0, wanted.length).some((value) => value === ''))
      throw usageError(
        `expected ${wanted.length} line(s) on stdin (${wanted.map(([name]) => name).join(', ')}), one secret per line`,
      );
    wanted.forEach(([name], index) => (credentials[name] = lines[index]));
  }
  if (options.verifyToken !== undefined) credentials.verifyToken = options.verifyToken;
  if (options.accountSid !== undefined) credentials.accountSid = options.accountSid;
  return credentials;
}

async function withNumbers<T>(work: (deps: NumberDeps) => Promise<T>): Promise<T> {
  const config = cliConfig();
  return withDatabase(config, ({ db }) => work({ db, cipher: cipherFor(config) }));
}

export function registerNumber(program: Command): void {
  const group = program
    .command('number')
    .description('manage business numbers (Twilio senders, Meta phone number ids), each with its own persona')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  printf "%s\\n%s\\n" "$TOKEN" "$APP_SECRET" | chatbot number add --channel meta --phone-number-id 1234 \\\n' +
        '      --access-token-stdin --app-secret-stdin --verify-token my-verify-token --ai-config support\n' +
        '  chatbot number add --channel twilio --address whatsapp:+14155238886 --ai-config sales\n' +
        '  chatbot number list --json\n' +
        '  chatbot number update whatsapp:+14155238886 --no-ai-config --inactive\n' +
        '  chatbot number remove whatsapp:+14155238886',
    );

  credentialOptions(
    group
      .command('add')
      .description('add a business number')
      .addOption(
        new Option('--channel <channel>', 'its channel').choices(['twilio', 'meta']).makeOptionMandatory(),
      )
      .option('--address <whatsapp:+E164>', 'Twilio: the WhatsApp sender')
      .option('--phone-number-id <id>', "Meta: the number's phone number id")
      .option('--ai-config <name>', 'the AI configuration that answers on it (default: the active one)')
      .option('--name <name>', 'a name for people (default: the number)')
      .option('--json', 'print the result as JSON'),
  ).action(
    async (
      options: SecretFlags & {
        channel: NumberChannel;
        address?: string;
        phoneNumberId?: string;
        aiConfig?: string;
        name?: string;
        json?: boolean;
      },
    ) => {
      const address = options.channel === 'meta' ? options.phoneNumberId : options.address;
      if (address === undefined)
        throw usageError(
          options.channel === 'meta' ? '--phone-number-id is required' : '--address is required',
        );
      if (options.channel === 'meta' && options.address !== undefined)
        throw usageError('a Meta number is given with --phone-number-id, not --address');
      if (options.channel === 'twilio' && options.phoneNumberId !== undefined)
        throw usageError('a Twilio number is given with --address, not --phone-number-id');
      const credentials = await credentialsFrom(options);
      const row = await withNumbers((deps) =>
        addNumber(deps, CLI_ACTOR, {
          channel: options.channel,
          address,
          name: options.name,
          aiConfig: options.aiConfig,
          credentials,
        }),
      );
      if (options.json) return printJson(numberJson(row, options.aiConfig ?? null));
      line.ok(`added ${row.channel} number ${row.address} (id ${row.id})`);
      line.info('running processes answer on it within AI_CONFIG_REFRESH_SECONDS');
    },
  );

  group
    .command('list')
    .description('list the business numbers (credentials are never shown, only whether they are set)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const listed = await withNumbers(async ({ db }) => {
        const rows = await listBusinessNumbers(db);
        return Promise.all(
          rows.map(async (row) => ({
            row,
            persona: row.aiConfigId ? ((await getAiConfig(db, { id: row.aiConfigId }))?.name ?? null) : null,
          })),
        );
      });
      if (options.json) return printJson(listed.map(({ row, persona }) => numberJson(row, persona)));
      if (listed.length === 0) {
        line.info('no business numbers: only the environment’s default number answers');
        return;
      }
      printNumbers(listed);
    });

  credentialOptions(
    group
      .command('update')
      .description('change a business number; only the options given change')
      .argument('<number>', "the number's id or address")
      .option('--ai-config <name>', 'the AI configuration that answers on it')
      .option('--no-ai-config', 'answer with the active AI configuration')
      .option('--name <name>', 'a name for people')
      .option('--active', 'answer on it again')
      .option(
        '--inactive',
        'stop answering on it: its messages are acknowledged and not stored, nothing is sent from it (an environment number is deactivated by its row too)',
      )
      .option('--json', 'print the result as JSON'),
  ).action(
    async (
      ref: string,
      options: SecretFlags & {
        aiConfig?: string | false;
        name?: string;
        active?: boolean;
        inactive?: boolean;
        json?: boolean;
      },
    ) => {
      if (options.active && options.inactive) throw usageError('use --active or --inactive, not both');
      const credentials = await credentialsFrom(options);
      const row = await withNumbers((deps) =>
        changeNumber(deps, CLI_ACTOR, ref, {
          ...(options.aiConfig === undefined
            ? {}
            : { aiConfig: options.aiConfig === false ? null : options.aiConfig }),
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.active ? { active: true } : options.inactive ? { active: false } : {}),
          credentials,
        }),
      );
      if (options.json)
        return printJson(numberJson(row, typeof options.aiConfig === 'string' ? options.aiConfig : null));
      line.ok(`updated ${row.channel} number ${row.address}${row.isActive ? '' : ' (inactive)'}`);
    },
  );

  group
    .command('remove')
    .description('remove a business number (its conversations stay)')
    .argument('<number>', "the number's id or address")
    .action(async (ref: string) => {
      const row = await withNumbers((deps) => removeNumber(deps, CLI_ACTOR, ref));
      line.ok(`removed ${row.channel} number ${row.address}`);
    });
}

function numberJson(row: BusinessNumberRow, persona: string | null): Record<string, unknown> {
  return {
    id: row.id,
    channel: row.channel,
    address: row.address,
    name: row.name,
    aiConfig: persona,
    active: row.isActive,
    credentialsSet: row.credentialsEncrypted !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function printNumbers(listed: Array<{ row: BusinessNumberRow; persona: string | null }>): void {
  const header = ['CHANNEL', 'ADDRESS', 'NAME', 'AI CONFIG', 'ACTIVE', 'CREDENTIALS', 'ID'];
  const rows = listed.map(({ row, persona }) => [
    row.channel,
    row.address,
    row.name ?? '—',
    persona ?? '(active)',
    row.isActive ? 'yes' : 'no',
    row.credentialsEncrypted === null ? '(environment)' : 'set',
    row.id,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
