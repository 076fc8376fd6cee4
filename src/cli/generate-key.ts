import type { Command } from 'commander';
import { generateFieldKey } from '../security/field-encryption.js';

export function registerGenerateKey(program: Command): void {
  program
    .command('generate-key')
    .description('print a new random FIELD_ENCRYPTION_KEY (32 bytes, base64)')
    .addHelpText('after', '\nExample:\n  echo "FIELD_ENCRYPTION_KEY=$(chatbot generate-key)" >> .env')
    .action(() => {
      // The key alone on stdout, so $(chatbot generate-key) works; the advice goes to stderr.
      console.log(generateFieldKey());
      console.error(
        'Set it as FIELD_ENCRYPTION_KEY and keep a copy somewhere safe: without it, stored API keys cannot be read.',
      );
    });
}
