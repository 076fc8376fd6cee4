/**
 * `chatbot data export|erase --user ADDRESS`: a person's data rights from the server's shell, through the same
 * use case as the API (inbox/data-rights.ts), audited with the CLI as the actor.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CLI_ACTOR } from '../domain/roles.js';
import { eraseUserData, exportUserData, type DataRightsDeps } from '../inbox/data-rights.js';
import type { Composed } from '../main/compose.js';
import { knownPseudonymsFrom, pseudonymizerFrom } from '../security/pseudonym.js';
import { line, printJson } from './context.js';
import { CliError, EXIT } from './errors.js';
import { nonEmpty } from './parse.js';
import { withApp } from './with-app.js';

export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description("a person's data rights: export or erase everything held about them");
  data
    .command('export')
    .description('print (or write) everything held about a person as JSON')
    .requiredOption(
      '--user <address>',
      'their address as the channel gives it (whatsapp:+14155550100)',
      nonEmpty,
    )
    .option('--output <file>', 'write the JSON to this file (created readable by its owner only)')
    .action(async (options: { user: string; output?: string }) => {
      await withApp(async (app) => {
        const document = await exportUserData(rightsDeps(app), { actor: CLI_ACTOR, address: options.user });
        if (options.output === undefined) return printJson(document);
        await writeFile(options.output, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
        line.ok(`wrote ${document.conversations.length} conversation(s) to ${options.output}`);
      });
    });
  data
    .command('erase')
    .description('delete everything held about a person; the logs keep a pseudonym instead of their number')
    .requiredOption(
      '--user <address>',
      'their address as the channel gives it (whatsapp:+14155550100)',
      nonEmpty,
    )
    .option('--yes', 'really erase (without it: only say what would be erased, and exit 2)')
    .addHelpText(
      'after',
      '\nDeletes their conversations, messages, deliveries, model calls, notes, status callbacks, cached context\n' +
        'and rate-limit counter; rewrites webhook-log and audit rows that mention them with a pseudonym.\n' +
        'Cannot be undone: run `chatbot data export` first if they asked for a copy.',
    )
    .action(async (options: { user: string; yes?: boolean }) => {
      await withApp(async (app) => {
        const report = await eraseUserData(rightsDeps(app), {
          actor: CLI_ACTOR,
          address: options.user,
          confirm: options.yes === true,
        });
        const c = report.counts;
        const what =
          `${c.conversations} conversation(s), ${c.messages} message(s), ${c.deliveries} delivery part(s), ` +
          `${c.deliveryEvents} status callback(s), ${c.modelCalls} model call(s), ${c.notes} note(s); ` +
          `${c.webhookLogs} webhook log row(s) and ${c.auditEntries} audit row(s) pseudonymised`;
        if (!report.erased) {
          line.info(`would erase ${what}`);
          throw new CliError('nothing was erased: add --yes to erase', EXIT.usage);
        }
        line.ok(`erased ${what}; they are now ${report.pseudonym} in the logs`);
        if (!report.hotStateCleared)
          line.warn('Redis did not answer: their cached context and rate-limit counter expire by themselves');
      });
    });
}

function rightsDeps(app: Composed): DataRightsDeps {
  return {
    ...app.deps,
    pseudonymize: pseudonymizerFrom(app.config),
    knownPseudonyms: knownPseudonymsFrom(app.config),
    webhookLogRetentionDays: app.config.scheduler.webhookLogRetentionDays,
  };
}
