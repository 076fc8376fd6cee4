import type { Command } from 'commander';
import type { TwilioSettings } from '../config/load.js';
import { codePointLength, isBusinessScopedId, isE164 } from '../domain/sanitize.js';
import { cliConfig, line } from './context.js';
import { CliError, usageError } from './errors.js';

/** Twilio's limit for one WhatsApp body (TWILIO_MAX_BODY_LENGTH; the SDK is loaded only to send). */
const TWILIO_MAX_BODY_LENGTH = 1600;
const DEFAULT_MESSAGE = 'Test message from whatsapp-ai-chatbot ✓';

interface Options {
  to?: string;
  message?: string;
  checkConfig?: boolean;
}

export function registerTestWhatsapp(program: Command): void {
  program
    .command('test-whatsapp')
    .description('send one WhatsApp message through Twilio, or check the Twilio settings')
    .option(
      '--to <recipient>',
      'recipient: an E.164 number (+14155550100) or a business-scoped id (CO.899759302823042); whatsapp: optional',
    )
    .option('--message <text>', 'the text to send', DEFAULT_MESSAGE)
    .option('--check-config', 'check the Twilio credentials and sender without sending anything')
    .addHelpText(
      'after',
      '\nThe recipient must have joined your sandbox or messaged your number in the last 24 hours, as WhatsApp\n' +
        'requires for free-form messages.\n\nExamples:\n' +
        '  chatbot test-whatsapp --to +14155550100 --message "Hello from the bot"\n' +
        '  chatbot test-whatsapp --check-config',
    )
    .action(async (options: Options) => {
      if (options.checkConfig) {
        if (options.to) throw usageError('--check-config sends nothing; leave out --to');
        await checkConfig(twilioSettings());
        return;
      }
      if (!options.to) throw usageError('pass --to +E164 (and --message), or --check-config');
      const to = recipient(options.to);
      const body = options.message ?? DEFAULT_MESSAGE;
      if (body.trim() === '') throw usageError('--message must not be empty');
      if (codePointLength(body) > TWILIO_MAX_BODY_LENGTH) {
        throw usageError(`--message is longer than Twilio's ${TWILIO_MAX_BODY_LENGTH} characters`);
      }
      await send(twilioSettings(), to, body);
    });
}

/**
 * `whatsapp:+E164`, or `whatsapp:CC.<id>` for a user known by a business-scoped id: Twilio takes that id
 * wherever it takes a phone number, and it never gets a `+`.
 */
export function recipient(input: string): string {
  const to = input.trim().replace(/^whatsapp:/, '');
  if (isE164(to) || isBusinessScopedId(to)) return `whatsapp:${to}`;
  throw usageError(
    `--to: "${input}" is not an E.164 number (+ then 7–15 digits, e.g. +14155550100) ` +
      'nor a business-scoped id (e.g. CO.899759302823042)',
  );
}

function twilioSettings(): TwilioSettings {
  const config = cliConfig();
  if (!config.twilio) {
    throw usageError(
      'Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_NUMBER',
    );
  }
  return config.twilio;
}

async function checkConfig(settings: TwilioSettings): Promise<void> {
  line.ok(`sender ${settings.whatsappNumber} is a valid whatsapp:+E164 address`);
  const { fetchTwilioAccount } = await import('../channels/twilio/channel.js');
  try {
    const account = await fetchTwilioAccount(settings);
    if (account.status !== 'active') throw new CliError(`Twilio account ${account.sid} is ${account.status}`);
    line.ok(`credentials work: account ${account.sid} (${account.friendlyName}) is active`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Twilio: ${describe(error)}`);
  }
}

async function send(settings: TwilioSettings, to: string, body: string): Promise<void> {
  const { createTwilioChannel } = await import('../channels/twilio/channel.js');
  const channel = createTwilioChannel(settings);
  try {
    const result = await channel.send({ to, body });
    line.ok(
      `sent to ${to} from ${settings.whatsappNumber}: SID ${result.providerMessageId} (status ${result.status})`,
    );
  } catch (error) {
    throw new CliError(`Twilio did not send the message: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
