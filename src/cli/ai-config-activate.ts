/**
 * The live test before an activation from the CLI (activate, create --activate, update --activate): the same
 * call as `ai-config test` and the admin's Test button (admin/ai-test.ts). A configuration that fails it is not
 * activated, unless --force; the previous active one stays active.
 */
import type { Config } from '../config/load.js';
import type { Db } from '../db/connect.js';
import type { AiConfigRow } from '../db/ai-configs.js';
import { configSecrets } from '../errors/from-config.js';
import { createRedactor } from '../errors/redact.js';
import { aiConfigAuditDetails, aiConfigTarget } from '../inbox/ai-config-audit.js';
import { auditCli } from './audit.js';
import { cipherFor, line } from './context.js';
import { CliError } from './errors.js';

export interface ActivateOptions {
  force: boolean;
  /** Print nothing on stdout (it holds the command's JSON); the warning of --force still goes to stderr. */
  quiet: boolean;
  /** What was already done before the activation, for the refusal line: `created "main"`. */
  done?: string;
}

/** Test `row`, then activate it if it answered (or with force); throws a CliError (exit 1) when refused. */
export async function activateAfterLiveTest(
  config: Config,
  db: Db,
  row: AiConfigRow,
  options: ActivateOptions,
): Promise<AiConfigRow> {
  // Loaded here so that `--help` does not pay for the AI SDKs.
  const { activateIfItAnswers, DEFAULT_TEST_PROMPT } = await import('../admin/ai-test.js');
  const outcome = await activateIfItAnswers(
    db,
    row,
    {
      prompt: DEFAULT_TEST_PROMPT,
      environment: config.ai,
      cipher: cipherFor(config),
      appUrl: config.http.publicBaseUrl,
      redact: createRedactor(configSecrets(config)),
    },
    { force: options.force },
  );
  const { test } = outcome;
  if (outcome.activated) {
    await auditCli(db, {
      action: 'ai-config.activate',
      target: aiConfigTarget(outcome.row),
      details: { ...aiConfigAuditDetails(outcome.row), forced: outcome.forced },
    });
  }
  if (!test.ok) {
    const failure = `the live test of "${row.name}" failed (${test.kind}): ${test.message}`;
    if (!outcome.activated) {
      // An update of the active configuration is already live: say so rather than "not activated".
      const what = row.isActive
        ? `${options.done ?? `"${row.name}"`}, the active configuration, but ${failure}`
        : options.done
          ? `${options.done} but did not activate it: ${failure}`
          : `not activated: ${failure}`;
      throw new CliError(`${what}\n  fix it and try again, or activate it anyway with --force`);
    }
    line.warn(`activated anyway (--force): ${failure}`);
  } else if (!options.quiet) {
    line.ok(`live test passed: ${test.model} answered in ${test.latencyMs} ms`);
  }
  return outcome.activated ? outcome.row : row;
}
