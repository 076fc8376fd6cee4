import type { Command } from 'commander';
import { createAdminUser, passwordProblem, usernameProblem } from '../db/admin-users.js';
import { auditCli } from './audit.js';
import { cliConfig, line, readStdin, withDatabase } from './context.js';
import { usageError } from './errors.js';
import { askNewPassword, retry } from './password-input.js';
import { ask } from './prompt.js';

const PASSWORD_ENV = 'CHATBOT_SUPERUSER_PASSWORD';

export function registerCreateSuperuser(program: Command): void {
  program
    .command('createsuperuser')
    .description('create an admin account for the web admin (interactive at a terminal, or scripted)')
    .option('--username <name>', 'the username (letters, digits, @ . + - _); without it, you are asked')
    .option(
      '--password-stdin',
      'read the password from stdin (e.g. `printf %s "$PW" | chatbot createsuperuser …`)',
    )
    .addHelpText(
      'after',
      `\nScripted, the password comes from --password-stdin or the ${PASSWORD_ENV} variable.\n` +
        'Passwords need at least 10 characters.\n\nExamples:\n' +
        '  chatbot createsuperuser\n' +
        '  printf %s "$ADMIN_PASSWORD" | chatbot createsuperuser --username admin --password-stdin\n' +
        `  ${PASSWORD_ENV}=… chatbot createsuperuser --username admin`,
    )
    .action(async (options: { username?: string; passwordStdin?: boolean }) => {
      const { username, password } = options.username
        ? await scripted(options.username, options.passwordStdin === true)
        : await interactive();
      const config = cliConfig();
      const user = await withDatabase(config, async ({ db }) => {
        const created = await createAdminUser(db, { username, password });
        await auditCli(db, {
          action: 'account.create',
          target: { type: 'account', id: created.id },
          details: { username: created.username, role: created.role },
        });
        return created;
      });
      line.ok(`admin user "${user.username}" created`);
      const base = config.http.publicBaseUrl;
      if (base) line.info(`log in at ${base}/admin/`);
    });
}

async function scripted(
  username: string,
  fromStdin: boolean,
): Promise<{ username: string; password: string }> {
  const problem = usernameProblem(username);
  if (problem) throw usageError(problem);
  const password = fromStdin ? await readStdin() : process.env[PASSWORD_ENV];
  if (!password) {
    throw usageError(`no password given: pass --password-stdin and pipe it in, or set ${PASSWORD_ENV}`);
  }
  const weak = passwordProblem(password);
  if (weak) throw usageError(weak);
  return { username, password };
}

async function interactive(): Promise<{ username: string; password: string }> {
  if (!process.stdin.isTTY) {
    throw usageError(
      `stdin is not a terminal: pass --username with --password-stdin (or ${PASSWORD_ENV}) to run without questions`,
    );
  }
  const username = await retry(async () => {
    const answer = await ask('Username: ');
    return { value: answer, problem: usernameProblem(answer) };
  });
  const password = await askNewPassword();
  return { username, password };
}
