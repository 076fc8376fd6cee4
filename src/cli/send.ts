/**
 * `chatbot send`: one proactive message from the server's shell, through the same use case as
 * `POST /api/v1/messages` (the CLI acts as an admin). Exit 0 stored and queued, 1 refused for this person
 * (opted out, outside the window), 2 bad flags or values.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { isAppError } from '../domain/errors.js';
import { CLI_ACTOR } from '../domain/roles.js';
import { showMessage } from '../inbox/messages.js';
import { sendProactive, type ProactiveContent } from '../inbox/send-proactive.js';
import { line, printJson } from './context.js';
import { CliError, usageError } from './errors.js';
import { nonEmpty } from './parse.js';
import { withApp } from './with-app.js';

interface Options {
  to: string;
  text?: string;
  template?: string;
  variables?: string;
  language?: string;
  from?: string;
  key?: string;
  json?: boolean;
}

export function registerSend(program: Command): void {
  program
    .command('send')
    .description(
      'send one message to a person, who may never have written (a text, or a template after 24 h)',
    )
    .requiredOption('--to <address>', 'whatsapp:+E164, +E164, or a business-scoped id (CO.…)', nonEmpty)
    .option('--text <text>', 'a free-form text (only inside the 24-hour window)', nonEmpty)
    .option('--template <HX…|name>', 'an approved template: a Twilio Content SID, or a Meta template name')
    .option('--language <code>', "a Meta template's language (default en_US)")
    .option('--variables <json>', 'the template\'s variables as a JSON object: \'{"1":"Ana"}\'')
    .option(
      '--from <address>',
      'one of our numbers, which picks the channel: whatsapp:+E164 (Twilio) or a Meta phone number id',
    )
    .option('--key <key>', 'an idempotency key: the same key again sends nothing new (safe to retry)')
    .option('--json', 'print {"message", "conversationId", "conversationCreated"} instead')
    .addHelpText(
      'after',
      '\nThe worker delivers it (keep one running); its status follows as for replies.\n\nExamples:\n' +
        '  chatbot send --to +14155550100 --text "Your order has shipped."\n' +
        '  chatbot send --to whatsapp:+14155550100 --template HXb5b62575e6e4ff6129ad7c8efe1f983e --variables \'{"1":"Ana"}\'',
    )
    .action(async (options: Options) => {
      const content = contentOf(options);
      await withApp(async (app) => {
        const sent = await sendProactive(app.deps, {
          actor: CLI_ACTOR,
          to: options.to,
          from: options.from,
          content,
          requestKey: options.key ?? randomUUID(),
        }).catch((error: unknown) => {
          if (isAppError(error) && error.kind === 'conflict')
            throw new CliError(`not sent to ${options.to}: ${error.code ?? 'conflict'} (${error.message})`);
          throw error;
        });
        const message = await showMessage(app.deps, {
          actor: CLI_ACTOR,
          conversationId: sent.conversationId,
          messageId: sent.messageId,
        });
        if (options.json) {
          printJson({
            message,
            conversationId: sent.conversationId,
            conversationCreated: sent.conversationCreated,
          });
          return;
        }
        if (sent.created) line.ok(`message ${message.id} to ${sent.to}: ${message.status ?? 'stored'}`);
        else
          line.info(
            `message ${message.id} to ${sent.to} was already sent with this --key: ${message.status ?? ''}`,
          );
        line.info(
          `conversation ${sent.conversationId}${sent.conversationCreated ? ' (new: this person had never written)' : ''}`,
        );
        if (!sent.queued)
          line.warn('the queue is unreachable: the message is stored and goes out once it is back');
      });
    });
}

function contentOf(options: Options): ProactiveContent {
  if ((options.text === undefined) === (options.template === undefined))
    throw usageError('give exactly one of --text or --template');
  if (options.text !== undefined) {
    if (options.variables !== undefined || options.language !== undefined)
      throw usageError('--variables and --language go with --template, not --text');
    return { type: 'text', text: options.text };
  }
  return {
    type: 'template',
    templateId: options.template ?? '',
    variables: variablesOf(options.variables),
    ...(options.language === undefined ? {} : { language: options.language }),
  };
}

/** `--variables '{"1":"Ana"}'`: a JSON object of strings (numbers are taken as their text). */
export function variablesOf(json: string | undefined): Record<string, string> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw usageError('--variables must be a JSON object, e.g. \'{"1":"Ana","2":"3pm"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usageError('--variables must be a JSON object, e.g. \'{"1":"Ana"}\'');
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number')
      throw usageError(`--variables: the value of "${name}" must be a string`);
    variables[name] = String(value);
  }
  return variables;
}
