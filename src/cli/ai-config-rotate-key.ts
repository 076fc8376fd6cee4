import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { reencryptAiConfigKeys } from '../db/ai-configs.js';
import { createFieldCipher, parseFieldKey } from '../security/field-encryption.js';
import { auditCli } from './audit.js';
import { cliConfig, line, withDatabase } from './context.js';
import { usageError } from './errors.js';

export function registerAiConfigRotateKey(group: Command): void {
  group
    .command('rotate-key')
    .description('re-encrypt every stored API key with FIELD_ENCRYPTION_KEY, reading them with the old key')
    .option('--old-key-file <path>', 'file holding the old key (instead of FIELD_ENCRYPTION_KEY_PREVIOUS)')
    .addHelpText(
      'after',
      '\nRotation, step by step:\n' +
        '  1. chatbot generate-key                      → the new key\n' +
        '  2. set FIELD_ENCRYPTION_KEY_PREVIOUS=<old key> and FIELD_ENCRYPTION_KEY=<new key> everywhere\n' +
        '     (running processes can read keys under either while the rotation runs)\n' +
        '  3. chatbot ai-config rotate-key              → all rows, one transaction: all or nothing\n' +
        '  4. remove FIELD_ENCRYPTION_KEY_PREVIOUS\n\n' +
        'Example:\n  FIELD_ENCRYPTION_KEY=$NEW FIELD_ENCRYPTION_KEY_PREVIOUS=$OLD chatbot ai-config rotate-key',
    )
    .action(async (options: { oldKeyFile?: string }) => {
      const config = cliConfig();
      if (!config.fieldEncryption.key) {
        throw usageError(
          'FIELD_ENCRYPTION_KEY (the new key) is not set; make one with `chatbot generate-key`',
        );
      }
      const current = parseFieldKey(config.fieldEncryption.key);
      const oldText = options.oldKeyFile
        ? await readFile(options.oldKeyFile, 'utf8').catch(() => {
            throw usageError(`--old-key-file: cannot read ${options.oldKeyFile ?? ''}`);
          })
        : config.fieldEncryption.previousKey;
      const previous = oldText
        ? [parseFieldKey(oldText, options.oldKeyFile ? '--old-key-file' : 'FIELD_ENCRYPTION_KEY_PREVIOUS')]
        : [];
      const cipher = createFieldCipher(current, previous);
      const result = await withDatabase(config, async ({ db }) => {
        const rotation = await reencryptAiConfigKeys(db, cipher);
        // The key id is a fingerprint already written in every stored value, not the key.
        await auditCli(db, {
          action: 'ai-config.rotate-key',
          details: {
            keyId: cipher.keyId,
            rotated: rotation.rotated,
            alreadyCurrent: rotation.alreadyCurrent,
          },
        });
        return rotation;
      });
      line.ok(
        `re-encrypted ${result.rotated} API key(s) with key ${cipher.keyId}` +
          (result.alreadyCurrent > 0 ? `; ${result.alreadyCurrent} already used it` : ''),
      );
      if (previous.length > 0) line.info('you can now remove FIELD_ENCRYPTION_KEY_PREVIOUS');
    });
}
