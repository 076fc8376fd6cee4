import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import type { Db } from '../db/connect.js';
import { getAiConfigByName } from '../db/ai-configs.js';
import { isAppError } from '../domain/errors.js';
import { silentLogger } from '../log.js';
import type { ChatModel } from '../ports.js';
import { requireFieldCipher } from '../security/field-encryption.js';
import { cliConfig, line, printJson, withDatabase } from './context.js';
import { CliError, EXIT, exitCodeFor, messageFor } from './errors.js';

const DEFAULT_PROMPT = 'In one short sentence: are you working?';

interface Target {
  label: string;
  model: ChatModel;
  systemPrompt: string;
  temperature: number;
  maxTokens: number;
}

export function registerAiConfigTest(group: Command): void {
  group
    .command('test')
    .description('send a one-line prompt through a configuration and print the answer and the latency')
    .option(
      '--name <name>',
      'the configuration to test (default: the active one, else the environment settings)',
    )
    .option('--prompt <text>', 'what to ask', DEFAULT_PROMPT)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  chatbot ai-config test\n  chatbot ai-config test --name main --prompt "Say hi"',
    )
    .action(async (options: { name?: string; prompt: string; json?: boolean }) => {
      const config = cliConfig();
      // With --json a failure is a JSON object on stdout too (ok: false), so a script always has one to read.
      let label: string | null = null;
      let tested;
      try {
        tested = await withDatabase(config, async ({ db }) => {
          const chosen = await targetFor(config, db, options.name);
          label = chosen.label;
          const started = performance.now();
          try {
            const result = await chosen.model.complete({
              messages: [
                { role: 'system', content: chosen.systemPrompt },
                { role: 'user', content: options.prompt },
              ],
              temperature: chosen.temperature,
              maxTokens: chosen.maxTokens,
            });
            return { target: chosen, answer: result, ms: Math.round(performance.now() - started) };
          } catch (error) {
            throw new CliError(
              `${chosen.label} failed: ${error instanceof Error ? error.message : String(error)}`,
              EXIT.failure,
              { cause: error },
            );
          }
        });
      } catch (error) {
        if (!options.json) throw error;
        const root = error instanceof CliError && error.cause !== undefined ? error.cause : error;
        printJson({
          ok: false,
          target: label,
          error: { kind: isAppError(root) ? root.kind : 'error', message: messageFor(root) },
        });
        process.exitCode = exitCodeFor(error);
        return;
      }
      const { target, answer, ms } = tested;
      if (options.json) {
        printJson({
          ok: true,
          target: target.label,
          provider: target.model.provider,
          model: answer.model,
          latencyMs: ms,
          usage: answer.usage,
          answer: answer.text,
        });
        return;
      }
      line.ok(
        `${target.label} answered in ${ms} ms (${answer.usage.inputTokens} tokens in, ${answer.usage.outputTokens} out):`,
      );
      console.log(answer.text);
    });
}

async function targetFor(config: Config, db: Db, name: string | undefined): Promise<Target> {
  // Loaded here so that `--help` does not pay for the AI SDKs.
  const [{ createAiRuntime, settingsFromAiConfig }, { createChatModel }] = await Promise.all([
    import('../ai/runtime.js'),
    import('../ai/select.js'),
  ]);
  const decrypt = (stored: string) =>
    requireFieldCipher(config.fieldEncryption, 'read AI configuration keys').decrypt(stored);
  const appUrl = config.http.publicBaseUrl ? { appUrl: config.http.publicBaseUrl } : {};
  if (name !== undefined) {
    const row = await getAiConfigByName(db, name);
    if (!row) throw new CliError(`no AI configuration named "${name}"`);
    const settings = settingsFromAiConfig(row, config.ai, decrypt);
    return {
      label: `"${row.name}" (${settings.provider} ${settings.model})`,
      model: createChatModel(settings, appUrl),
      systemPrompt: settings.systemPrompt,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
    };
  }
  const choice = await createAiRuntime({
    db,
    envSettings: config.ai,
    decrypt,
    log: silentLogger(),
    ...appUrl,
  }).refresh();
  if (choice.problem) throw new CliError(`the active configuration cannot be used: ${choice.problem}`);
  const what = `${choice.model.provider} ${choice.model.model}`;
  return {
    label: choice.configName
      ? `"${choice.configName}" (${what}, active)`
      : `the environment settings (${what})`,
    ...choice,
  };
}
