import type { Command } from 'commander';
import { findConversationsByAddress, getConversation, type Conversation } from '../db/conversations.js';
import { CONVERSATION_MODES, type ConversationMode } from '../domain/conversation-mode.js';
import { CLI_ACTOR } from '../domain/roles.js';
import { switchMode } from '../inbox/switch-mode.js';
import { line } from './context.js';
import { CliError, usageError } from './errors.js';
import { withApp } from './with-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `chatbot conversation mode CONVERSATION MODE`: an operator's switch from the server's shell. */
export function registerConversation(program: Command): void {
  const conversation = program.command('conversation').description('act on one conversation as an operator');
  conversation
    .command('mode')
    .description('hand a conversation to a human, back to the bot, or pause it (as the admin and the API do)')
    .argument('<conversation>', "the conversation's id, or the user's address (whatsapp:+14155550100)")
    .argument('<mode>', CONVERSATION_MODES.join(' | '))
    .option('--reason <text>', 'why, for the audit log and the inbox', 'operator')
    .option(
      '--from <number>',
      'our business number the conversation is with (whatsapp:+E164, a Meta phone number id), when the user wrote to several',
    )
    .addHelpText(
      'after',
      '\nEntering human sends HANDOFF_MESSAGE to the user once and notifies the operators; paused sends nothing.\n\n' +
        'Examples:\n  chatbot conversation mode whatsapp:+14155550100 human\n' +
        '  chatbot conversation mode 3f0c…-… bot',
    )
    .action(async (target: string, mode: string, options: { reason: string; from?: string }) => {
      if (!(CONVERSATION_MODES as readonly string[]).includes(mode))
        throw usageError(`the mode must be one of ${CONVERSATION_MODES.join(', ')}`);
      await withApp(async (app) => {
        const found = UUID.test(target)
          ? await getConversation(app.deps.db, target)
          : onlyConversation(
              target,
              await findConversationsByAddress(app.deps.db, target, {
                ...(options.from === undefined ? {} : { businessAddress: options.from }),
              }),
            );
        if (!found) throw new CliError(`no conversation found for ${target}`);
        const switched = await switchMode(app.deps, {
          conversationId: found.id,
          mode: mode as ConversationMode,
          actor: CLI_ACTOR,
          reason: options.reason,
        });
        if (switched.previous === switched.mode) line.info(`conversation ${found.id} was already in ${mode}`);
        else line.ok(`conversation ${found.id}: ${switched.previous} → ${switched.mode}`);
        if (switched.handoffAt) line.info('the user was sent HANDOFF_MESSAGE');
      });
    });
}

/**
 * A person who wrote to several of our numbers has a conversation with each: an address alone must not pick one
 * of them silently.
 */
function onlyConversation(target: string, found: Conversation[]): Conversation | null {
  if (found.length <= 1) return found[0] ?? null;
  const list = found.map((c) => `  ${c.id}  with ${c.businessAddress ?? '(the default number)'}`).join('\n');
  throw usageError(
    `${target} has ${found.length} conversations, one per business number:\n${list}\n` +
      'give the conversation id, or --from with our number',
  );
}
