/**
 * `chatbot ai-config …`: AI configurations stored in the database. The active one overrides the environment's
 * AI settings in running workers within AI_CONFIG_REFRESH_SECONDS, without a restart.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  AI_CONFIG_PROVIDERS,
  createAiConfig,
  deactivateAiConfig,
  deactivateAiConfigs,
  deleteAiConfig,
  getAiConfigByName,
  listAiConfigs,
  toAiConfigView,
  updateAiConfig,
  type AiConfigPatch,
} from '../db/ai-configs.js';
import { aiConfigAuditDetails, aiConfigTarget } from '../inbox/ai-config-audit.js';
import { activateAfterLiveTest } from './ai-config-activate.js';
import { registerAiConfigRotateKey } from './ai-config-rotate-key.js';
import { registerAiConfigTest } from './ai-config-test.js';
import { printDetails, printTable, summary, viewJson } from './ai-config-output.js';
import { auditCli } from './audit.js';
import { cipherFor, cliConfig, line, printJson, readStdin, withDatabase } from './context.js';
import { CliError, usageError } from './errors.js';
import { httpUrl, nonEmpty, numberIn, positiveInt } from './parse.js';

interface FieldOptions {
  provider?: string;
  apiKey?: string;
  apiKeyStdin?: boolean;
  model?: string;
  baseUrl?: string;
  systemPrompt?: string;
  temperature?: number;
  maxTokens?: number;
  /** Its own price (USD per million tokens); null (update with "") goes back to the price table. */
  inputPrice?: number | '';
  outputPrice?: number | '';
  /** true/false from --vision/--no-vision; 'default' from `--vision default` (null in the database). */
  vision?: boolean | 'default';
  voiceAnswers?: boolean;
  voice?: string;
  activate?: boolean;
  force?: boolean;
  json?: boolean;
}

const provider = () =>
  new Option('--provider <provider>', 'who serves the model').choices(AI_CONFIG_PROVIDERS);

/** Options shared by create and update; for update an empty value clears a text field. */
function fieldOptions(command: Command, clearing: boolean): Command {
  const url = clearing ? (v: string) => (v === '' ? v : httpUrl(v)) : httpUrl;
  return command
    .option('--api-key <key>', 'the provider API key (stored encrypted; shown masked from now on)')
    .option('--api-key-stdin', 'read the API key from stdin instead (keeps it out of shell history)')
    .addOption(
      new Option('--model <model>', 'the model, e.g. openai/gpt-4o-mini (OpenRouter) or claude-sonnet-4-6')
        .argParser(nonEmpty)
        .makeOptionMandatory(!clearing),
    )
    .option(
      '--base-url <url>',
      `endpoint of an OpenAI-compatible server${clearing ? ' ("" for the default)' : ''}`,
      url,
    )
    .option(
      '--system-prompt <text>',
      `the model's instructions${clearing ? ' ("" for the environment\'s)' : ''}`,
    )
    .option('--temperature <number>', 'sampling temperature, 0 to 2', numberIn(0, 2))
    .option('--max-tokens <n>', 'longest answer in tokens', positiveInt)
    .option(
      '--input-price <usd>',
      `US dollars per million input tokens${clearing ? ' ("" for the price table)' : ''}`,
      price(clearing),
    )
    .option(
      '--output-price <usd>',
      `US dollars per million output tokens${clearing ? ' ("" for the price table)' : ''}`,
      price(clearing),
    )
    .option(
      '--vision [default]',
      'the model sees images (photos go to it as image parts); "--vision default": let the table of well-known vision models decide',
      visionValue,
    )
    .option('--no-vision', 'the model cannot see images (a photo without text gets a polite notice)')
    .option('--voice-answers', 'answer a voice note with a voice note too')
    .option('--no-voice-answers', 'answer voice notes in text only (the default)')
    .option(
      '--voice <name>',
      `the speech voice of voice answers, e.g. alloy${clearing ? ' ("" for SPEECH_VOICE)' : ''}`,
      clearing ? (v: string) => v : nonEmpty,
    )
    .option('--activate', 'make it the active configuration, if its live test answers (see test)')
    .option('--force', 'with --activate: activate it even if its live test fails')
    .option('--json', 'print the result as JSON');
}

/** A configuration's own price (cost tracking, README "Cost and spend caps"); "" clears it on update. */
function price(clearing: boolean) {
  const parse = numberIn(0, 100_000);
  // commander hands "" over without calling the parser: priceOf below reads it as "clear" (update only).
  return clearing ? (value: string) => (value === '' ? value : parse(value)) : parse;
}

/** The option as stored: "" clears it (null), absent keeps it (undefined). */
function priceOf(value: number | '' | undefined, clearing: boolean): number | null | undefined {
  if (value !== '') return value;
  if (clearing) return null;
  throw usageError('a price must be a number ≥ 0 (US dollars per million tokens)');
}

/** `--vision` alone is true; `--vision default` (or auto) hands the decision back to the table. */
function visionValue(value: string): boolean | 'default' {
  const word = value.trim().toLowerCase();
  // Not null: commander turns a parser's null into true.
  if (word === 'default' || word === 'auto') return 'default';
  if (['true', 'yes', 'on'].includes(word)) return true;
  if (['false', 'no', 'off'].includes(word)) return false;
  throw new InvalidArgumentError(
    'give no value (on), or "default" to let the table of vision models decide.',
  );
}

async function apiKeyFrom(options: FieldOptions): Promise<string | undefined> {
  if (options.apiKey !== undefined && options.apiKeyStdin)
    throw usageError('use --api-key or --api-key-stdin, not both');
  if (!options.apiKeyStdin) return options.apiKey;
  const key = (await readStdin()).trim();
  if (key === '') throw usageError('--api-key-stdin: nothing was piped in');
  return key;
}

export function registerAiConfig(program: Command): void {
  const group = program
    .command('ai-config')
    .description('manage AI configurations stored in the database (the active one overrides the environment)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  chatbot ai-config create --name main --provider openrouter --api-key sk-or-… --model openai/gpt-4o-mini --activate\n' +
        '  chatbot ai-config list --json\n' +
        '  chatbot ai-config test --name main\n' +
        '  chatbot ai-config activate --name main [--force]\n' +
        '  chatbot ai-config update --name main --model anthropic/claude-sonnet-4-6\n' +
        '  chatbot ai-config update --name main --vision        (or --no-vision, --vision default)\n' +
        '  chatbot ai-config show --name main\n' +
        '  chatbot ai-config delete --name main\n' +
        '  chatbot ai-config rotate-key',
    );

  group
    .command('list')
    .description('list the configurations (API keys masked)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const config = cliConfig();
      const cipher = cipherFor(config);
      const views = await withDatabase(config, async ({ db }) =>
        (await listAiConfigs(db)).map((row) => toAiConfigView(row, cipher)),
      );
      if (options.json) return printJson(views.map(viewJson));
      if (views.length === 0) {
        line.info(
          `no AI configurations: the environment settings are in use (${config.ai.provider} ${config.ai.model})`,
        );
        return;
      }
      printTable(views);
    });

  fieldOptions(
    group
      .command('create')
      .description('store a new configuration')
      .requiredOption('--name <name>', 'a unique name, e.g. main or claude-backup')
      .addOption(provider().makeOptionMandatory()),
    false,
  ).action(async (options: FieldOptions & { name: string; provider: string; model: string }) => {
    if (options.force && !options.activate) throw usageError('--force goes with --activate');
    const apiKey = await apiKeyFrom(options);
    const config = cliConfig();
    const cipher = cipherFor(config);
    const view = await withDatabase(config, async ({ db }) => {
      const row = await createAiConfig(db, cipher, {
        name: options.name,
        provider: options.provider,
        apiKey,
        model: options.model,
        baseUrl: options.baseUrl,
        systemPrompt: options.systemPrompt,
        temperature: options.temperature,
        maxTokens: options.maxTokens,
        inputPriceUsd: priceOf(options.inputPrice, false) ?? undefined,
        outputPriceUsd: priceOf(options.outputPrice, false) ?? undefined,
        vision: options.vision === 'default' ? null : options.vision,
        voiceAnswers: options.voiceAnswers,
        voice: options.voice,
      });
      await auditCli(db, {
        action: 'ai-config.create',
        target: aiConfigTarget(row),
        details: aiConfigAuditDetails(row),
      });
      if (!options.activate) return toAiConfigView(row, cipher);
      const active = await activateAfterLiveTest(config, db, row, {
        force: options.force === true,
        quiet: options.json === true,
        done: `created "${row.name}"`,
      });
      return toAiConfigView(active, cipher);
    });
    if (options.json) return printJson(viewJson(view));
    line.ok(`created ${summary(view)}`);
    if (!view.isActive)
      line.info(`activate it with: chatbot ai-config update --name ${quote(view.name)} --activate`);
  });

  fieldOptions(
    group
      .command('update')
      .description('change a configuration; only the options given change')
      .requiredOption('--name <name>', 'the configuration to change')
      .option('--rename <new-name>', 'give it a new name')
      .addOption(provider())
      .option('--deactivate', 'stop using it (workers go back to the environment settings)'),
    true,
  ).action(async (options: FieldOptions & { name: string; rename?: string; deactivate?: boolean }) => {
    if (options.activate && options.deactivate) throw usageError('use --activate or --deactivate, not both');
    if (options.force && !options.activate) throw usageError('--force goes with --activate');
    const patch: AiConfigPatch = {
      ...(options.rename === undefined ? {} : { name: options.rename }),
      ...(options.provider === undefined ? {} : { provider: options.provider }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl === '' ? null : options.baseUrl }),
      ...(options.systemPrompt === undefined
        ? {}
        : { systemPrompt: options.systemPrompt === '' ? null : options.systemPrompt }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
      ...(options.inputPrice === undefined ? {} : { inputPriceUsd: priceOf(options.inputPrice, true) }),
      ...(options.outputPrice === undefined ? {} : { outputPriceUsd: priceOf(options.outputPrice, true) }),
      ...(options.vision === undefined
        ? {}
        : { vision: options.vision === 'default' ? null : options.vision }),
      ...(options.voiceAnswers === undefined ? {} : { voiceAnswers: options.voiceAnswers }),
      ...(options.voice === undefined ? {} : { voice: options.voice === '' ? null : options.voice }),
    };
    const apiKey = await apiKeyFrom(options);
    if (apiKey !== undefined) patch.apiKey = apiKey;
    if (Object.keys(patch).length === 0 && !options.activate && !options.deactivate)
      throw usageError(
        'nothing to update: give at least one option (--rename, --provider, --model, --api-key, --base-url, ' +
          '--system-prompt, --temperature, --max-tokens, --input-price, --output-price, --vision, --voice-answers, ' +
          '--voice, --activate, --deactivate)',
      );
    const config = cliConfig();
    const cipher = cipherFor(config);
    const view = await withDatabase(config, async ({ db }) => {
      const ref = { name: options.name };
      const before = await getAiConfigByName(db, options.name);
      let row = await updateAiConfig(db, cipher, ref, patch);
      // Only --activate or --deactivate: no field changed, and the activation has its own row.
      if (before && Object.keys(patch).length > 0) {
        await auditCli(db, {
          action: 'ai-config.update',
          target: aiConfigTarget(row),
          details: aiConfigAuditDetails(row, before),
        });
      }
      if (options.activate) {
        row = await activateAfterLiveTest(config, db, row, {
          force: options.force === true,
          quiet: options.json === true,
          done: `updated "${row.name}"`,
        });
      }
      if (options.deactivate) {
        if (await deactivateAiConfig(db, { id: row.id })) {
          await auditCli(db, {
            action: 'ai-config.deactivate',
            target: aiConfigTarget(row),
            details: aiConfigAuditDetails(row),
          });
        }
        row = { ...row, isActive: false };
      }
      return toAiConfigView(row, cipher);
    });
    if (options.json) return printJson(viewJson(view));
    line.ok(`updated ${summary(view)}`);
    if (view.isActive) line.info('running workers switch to it within seconds');
  });

  group
    .command('show')
    .description('show one configuration (API key masked), with whether its model sees images')
    .requiredOption('--name <name>', 'the configuration to show')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; json?: boolean }) => {
      const config = cliConfig();
      const cipher = cipherFor(config);
      const view = await withDatabase(config, async ({ db }) => {
        const row = await getAiConfigByName(db, options.name);
        if (!row) throw new CliError(`no AI configuration named "${options.name}"`);
        return toAiConfigView(row, cipher);
      });
      if (options.json) return printJson(viewJson(view));
      printDetails(view);
    });

  group
    .command('activate')
    .description('make a configuration the active one, if its live test answers (same as update --activate)')
    .requiredOption('--name <name>', 'the configuration to activate')
    .option('--force', 'activate it even if its live test fails')
    .action(async (options: { name: string; force?: boolean }) => {
      const config = cliConfig();
      const view = await withDatabase(config, async ({ db }) => {
        const row = await getAiConfigByName(db, options.name);
        if (!row) throw new CliError(`no AI configuration named "${options.name}"`);
        const active = await activateAfterLiveTest(config, db, row, {
          force: options.force === true,
          quiet: false,
        });
        return toAiConfigView(active, cipherFor(config));
      });
      line.ok(`activated ${summary(view)}; running workers switch to it within seconds`);
    });

  group
    .command('deactivate')
    .description('stop using the active configuration: workers go back to the environment settings')
    .action(async () => {
      const config = cliConfig();
      const previous = await withDatabase(config, async ({ db }) => {
        const deactivated = await deactivateAiConfigs(db);
        if (deactivated) {
          await auditCli(db, {
            action: 'ai-config.deactivate',
            target: aiConfigTarget(deactivated),
            details: aiConfigAuditDetails(deactivated),
          });
        }
        return deactivated;
      });
      if (previous) line.ok(`deactivated "${previous.name}"; the environment settings answer again`);
      else line.info('no configuration was active');
    });

  group
    .command('delete')
    .description(
      'delete a configuration (deleting the active one returns workers to the environment settings)',
    )
    .requiredOption('--name <name>', 'the configuration to delete')
    .action(async (options: { name: string }) => {
      const config = cliConfig();
      await withDatabase(config, async ({ db }) => {
        const row = await getAiConfigByName(db, options.name);
        if (!row || !(await deleteAiConfig(db, { id: row.id })))
          throw new CliError(`no AI configuration named "${options.name}"`);
        await auditCli(db, {
          action: 'ai-config.delete',
          target: aiConfigTarget(row),
          details: aiConfigAuditDetails(row),
        });
      });
      line.ok(`deleted "${options.name}"`);
    });

  registerAiConfigTest(group);
  registerAiConfigRotateKey(group);
}

function quote(name: string): string {
  return /^[\w.-]+$/.test(name) ? name : `"${name}"`;
}
