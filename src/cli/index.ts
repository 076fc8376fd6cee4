import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { loadDotEnv } from '../main/env.js';
import { registerAiConfig } from './ai-config.js';
import { registerApiToken } from './api-token.js';
import { registerBroadcast } from './broadcast.js';
import { registerConversation } from './conversation.js';
import { registerCreateSuperuser } from './createsuperuser.js';
import { registerData } from './data.js';
import { exitCodeFor, messageFor } from './errors.js';
import { registerGenerateKey } from './generate-key.js';
import { registerNumber } from './number.js';
import { migrateCommand } from './migrate.js';
import { registerSend } from './send.js';
import { registerTestWhatsapp } from './test-whatsapp.js';
import { registerUserAccount } from './user-account.js';
import { registerValidateConfig } from './validate-config.js';

/** `chatbot <command>`: the operator's tool. Exit codes: 0 ok, 1 failure, 2 bad usage or configuration. */
const program = new Command()
  .name('chatbot')
  .description('whatsapp-ai-chatbot management commands')
  .showHelpAfterError()
  .exitOverride();

program
  .command('migrate')
  .description('apply pending database migrations (safe to run from several processes at once)')
  .action(async () => {
    await migrateCommand();
  });

registerCreateSuperuser(program);
registerUserAccount(program);
registerValidateConfig(program);
registerTestWhatsapp(program);
registerAiConfig(program);
registerGenerateKey(program);
registerConversation(program);
registerNumber(program);
registerApiToken(program);
registerSend(program);
registerBroadcast(program);
registerData(program);

try {
  loadDotEnv();
} catch (error) {
  process.stderr.write(`✗ ${(error as Error).message}\n`);
  process.exit(1);
}
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(`✗ ${messageFor(error)}`);
    process.exitCode = exitCodeFor(error);
  }
}
