import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { loadDotEnv } from '../main/env.js';
import { migrateCommand } from './migrate.js';

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

loadDotEnv();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(`✗ ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
