/**
 * `chatbot user-account …`: operator accounts of the admin with a role (domain/roles.ts). Each change is
 * written to the audit log with the CLI as the actor. `createsuperuser` stays the way to make an admin.
 */
import { Command, Option } from 'commander';
import {
  countAdminUsersByRole,
  createAdminUser,
  deleteAdminUser,
  getAdminUserByUsername,
  listAdminUsers,
  setAdminUserRole,
  usernameProblem,
  type AdminUser,
} from '../db/admin-users.js';
import type { Db } from '../db/connect.js';
import { ROLES, type OperatorRole } from '../domain/roles.js';
import { auditCli } from './audit.js';
import { cliConfig, line, printJson, withDatabase } from './context.js';
import { CliError, usageError } from './errors.js';
import { askNewPassword, passwordFromStdin } from './password-input.js';

// commander refuses any other value with exit 2 and names the allowed ones.
const roleOption = () =>
  new Option('--role <role>', `admin (everything), agent (conversations) or viewer (read only)`)
    .choices(ROLES)
    .makeOptionMandatory();

const username = (value: string): string => {
  const problem = usernameProblem(value);
  if (problem) throw usageError(problem);
  return value;
};

export function registerUserAccount(program: Command): void {
  const group = program
    .command('user-account')
    .description('operator accounts of the admin, each with a role: admin, agent or viewer')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  chatbot user-account create --username maria --role agent          (asks for the password)\n' +
        '  printf %s "$PW" | chatbot user-account create --username maria --role agent\n' +
        '  chatbot user-account list [--json]\n' +
        '  chatbot user-account set-role --username maria --role viewer\n' +
        '  chatbot user-account delete --username maria --yes',
    );

  group
    .command('create')
    .description('create an account; the password is read from stdin when piped, else asked for')
    .requiredOption('--username <name>', 'letters, digits, @ . + - _')
    .addOption(roleOption())
    .action(async (options: { username: string; role: OperatorRole }) => {
      const name = username(options.username);
      const password = process.stdin.isTTY
        ? await askNewPassword()
        : await passwordFromStdin('pipe it in, or run the command at a terminal to be asked');
      const user = await withDatabase(cliConfig(), async ({ db }) => {
        const created = await createAdminUser(db, { username: name, password, role: options.role });
        await auditCli(db, {
          action: 'account.create',
          target: { type: 'account', id: created.id },
          details: { username: created.username, role: created.role },
        });
        return created;
      });
      line.ok(`${user.role} account "${user.username}" created`);
    });

  group
    .command('list')
    .description('list the accounts with their roles')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const users = await withDatabase(cliConfig(), ({ db }) => listAdminUsers(db));
      if (options.json) return printJson(users.map(userJson));
      if (users.length === 0) {
        line.info('no accounts yet: create an admin with `chatbot createsuperuser`');
        return;
      }
      const width = Math.max(...users.map((u) => u.username.length), 'USERNAME'.length);
      console.log(`${'USERNAME'.padEnd(width)}  ROLE    LAST LOGIN`);
      for (const user of users) {
        const last = user.lastLoginAt ? user.lastLoginAt.toISOString() : 'never';
        console.log(`${user.username.padEnd(width)}  ${user.role.padEnd(6)}  ${last}`);
      }
    });

  group
    .command('set-role')
    .description("change an account's role; its open sessions follow at their next request")
    .requiredOption('--username <name>', 'the account')
    .addOption(roleOption())
    .action(async (options: { username: string; role: OperatorRole }) => {
      const result = await withDatabase(cliConfig(), async ({ db }) => {
        const changed = await setAdminUserRole(db, options.username, options.role);
        if (!changed) throw new CliError(`no account named "${options.username}"`);
        if (changed.previous !== options.role) {
          await auditCli(db, {
            action: 'account.role',
            target: { type: 'account', id: changed.user.id },
            details: { username: changed.user.username, from: changed.previous, to: options.role },
          });
        }
        await warnWithoutAdmin(db);
        return changed;
      });
      if (result.previous === options.role) line.info(`"${options.username}" already is ${options.role}`);
      else line.ok(`"${options.username}" is now ${options.role} (was ${result.previous})`);
    });

  group
    .command('delete')
    .description('delete an account and end its sessions (its audit rows stay)')
    .requiredOption('--username <name>', 'the account')
    .option('--yes', 'really delete it (required: there is no undo)')
    .action(async (options: { username: string; yes?: boolean }) => {
      if (!options.yes) throw usageError(`deleting "${options.username}" cannot be undone: add --yes`);
      await withDatabase(cliConfig(), async ({ db }) => {
        const user = await getAdminUserByUsername(db, options.username);
        if (!user || !(await deleteAdminUser(db, options.username)))
          throw new CliError(`no account named "${options.username}"`);
        await auditCli(db, {
          action: 'account.delete',
          target: { type: 'account', id: user.id },
          details: { username: user.username, role: user.role },
        });
        await warnWithoutAdmin(db);
      });
      line.ok(`deleted "${options.username}"`);
    });
}

/** Allowed, since createsuperuser can always make another, but rarely meant. */
async function warnWithoutAdmin(db: Db): Promise<void> {
  const counts = await countAdminUsersByRole(db);
  if (!counts.admin) line.warn('no admin account is left: make one with `chatbot createsuperuser`');
}

function userJson(user: AdminUser) {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}
