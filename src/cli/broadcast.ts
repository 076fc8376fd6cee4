/**
 * `chatbot broadcast --template HX… --csv FILE`: one template to every row of a CSV (a `to` column, one column per
 * template variable), paced, resumable and reported. The campaign id is derived from the template, the sender and
 * the file's bytes, so running the same command again after a crash or a kill skips everyone already stored and
 * sends nobody twice; `--campaign` names it explicitly (to resume after editing the file).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { broadcastList } from '../domain/broadcast-list.js';
import { CsvError, parseCsv } from '../domain/csv.js';
import { CLI_ACTOR } from '../domain/roles.js';
import { broadcastTemplate, type BroadcastReport } from '../inbox/broadcast.js';
import { line, printJson } from './context.js';
import { EXIT, usageError } from './errors.js';
import { nonEmpty, numberIn } from './parse.js';
import { withApp } from './with-app.js';

/**
 * Messages stored per second and sending number. Twilio queues what a sender cannot take at once, but WhatsApp
 * rates a number by its quality, and a burst of identical templates is what gets one flagged: 10/s sends 500 in
 * under a minute and stays far below any sender's throughput.
 */
export const DEFAULT_BROADCAST_RATE = 10;

interface Options {
  template: string;
  csv: string;
  rate: number;
  from?: string;
  campaign?: string;
  json?: boolean;
}

export function registerBroadcast(program: Command): void {
  program
    .command('broadcast')
    .description('send an approved template to every person of a CSV file, paced, resumable, with a report')
    .requiredOption('--template <HX…>', 'the Twilio Content SID of an approved template', nonEmpty)
    .requiredOption(
      '--csv <file>',
      'a header row with "to" and one column per variable ("1", "2", …)',
      nonEmpty,
    )
    .option(
      '--rate <n>',
      'new messages per second from the sending number',
      numberIn(0.01, 1000),
      DEFAULT_BROADCAST_RATE,
    )
    .option('--from <address>', 'one of our numbers (default TWILIO_WHATSAPP_NUMBER)')
    .option('--campaign <id>', 'name the campaign instead of deriving it from the template and the file')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nCSV: to,1,2 then one row per person, e.g.  whatsapp:+14155550100,Ana,3pm  (a bare +E164 works too).\n' +
        'Rows with a bad address, an empty variable or a repeated person are skipped and reported, as are\n' +
        'people who opted out. Run the same command again after an interruption: who was already stored is\n' +
        'not sent again. The worker delivers (keep one running). Exit 1 when some rows failed (run it again).\n\n' +
        'Example:\n  chatbot broadcast --template HXb5b62575e6e4ff6129ad7c8efe1f983e --csv customers.csv --rate 20',
    )
    .action(async (options: Options) => {
      const bytes = await readFile(options.csv).catch((error: unknown) => {
        throw usageError(
          `--csv: cannot read ${options.csv} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      });
      let list;
      try {
        list = broadcastList(parseCsv(bytes.toString('utf8')));
      } catch (error) {
        if (error instanceof CsvError) throw usageError(`--csv ${options.csv}: ${error.message}`);
        throw error;
      }
      const campaignId = options.campaign ?? campaignIdOf(options.template, options.from, bytes);
      const report = await withApp((app) =>
        broadcastTemplate(app.deps, {
          actor: CLI_ACTOR,
          campaignId,
          templateId: options.template,
          from: options.from,
          rows: list.rows,
          ratePerSecond: options.rate,
          onRow: progress(list.rows.length),
        }),
      );
      if (options.json) printJson(report);
      else printReport(report);
      if (report.failed > 0) process.exitCode = EXIT.failure;
    });
}

/** The same template, sender and file give the same campaign, whatever the path or the day. */
export function campaignIdOf(templateId: string, from: string | undefined, file: Buffer): string {
  const hash = createHash('sha256')
    .update(templateId)
    .update('\0')
    .update(from ?? '')
    .update('\0');
  return hash.update(file).digest('hex').slice(0, 16);
}

/** Rows done so far, on stderr and only for a person at a terminal (a long broadcast is otherwise silent). */
function progress(total: number): (() => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let done = 0;
  return () => {
    done++;
    if (done % 100 === 0 || done === total) process.stderr.write(`\r· ${done}/${total} rows`);
    if (done === total) process.stderr.write('\n');
  };
}

function printReport(report: BroadcastReport): void {
  line.ok(`broadcast ${report.campaignId} of ${report.templateId}: ${report.recipients} row(s)`);
  line.info(`sent ${report.sent} (queued for delivery)`);
  line.info(`already sent by an earlier run ${report.alreadySent}`);
  const skipped = Object.entries(report.skipped);
  const skippedTotal = skipped.reduce((sum, [, n]) => sum + n, 0);
  line.info(
    `skipped ${skippedTotal}${skipped.length > 0 ? `: ${skipped.map(([reason, n]) => `${reason} ${n}`).join(', ')}` : ''}`,
  );
  if (report.failed > 0) line.fail(`failed ${report.failed} (run the same command again to retry them)`);
  else line.info('failed 0');
  for (const problem of report.problems)
    line.info(
      `line ${problem.line} ${JSON.stringify(problem.to)}: ${problem.outcome} (${problem.reason ?? ''})`,
    );
}
