/**
 * `chatbot api-token create|list|revoke`: the bearer tokens of the HTTP API (/api/v1/). A token is printed once,
 * when created, alone on the last line of stdout so a script can take it with `tail -n 1`; only its hash is kept.
 */
import { Option, type Command } from 'commander';
import {
  apiTokenNameProblem,
  createApiToken,
  listApiTokens,
  revokeApiToken,
  type ApiToken,
} from '../db/api-tokens.js';
import { insertAudit, type AuditInput } from '../db/audit-log.js';
import type { Db } from '../db/connect.js';
import { CLI_ACTOR, ROLES } from '../domain/roles.js';
import { cliConfig, line, printJson, withDatabase } from './context.js';
import { CliError, usageError } from './errors.js';

export function registerApiToken(program: Command): void {
  const group = program
    .command('api-token')
    .description('bearer tokens for the HTTP API (/api/v1/): create, list, revoke');

  group
    .command('create')
    .description('create a token; it is printed once, on the last line (only its hash is stored)')
    .requiredOption('--name <name>', 'a unique name for the integration (letters, digits, . _ -)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(ROLES).makeOptionMandatory())
    .option('--json', 'print {"token", "id", "name", "role"} instead')
    .addHelpText(
      'after',
      '\nExamples:\n  chatbot api-token create --name crm --role agent\n' +
        '  TOKEN=$(chatbot api-token create --name crm --role agent | tail -n 1)',
    )
    .action(async (options: { name: string; role: string; json?: boolean }) => {
      const problem = apiTokenNameProblem(options.name);
      if (problem) throw usageError(problem);
      const { token, apiToken } = await withDatabase(cliConfig(), async ({ db }) => {
        const created = await createApiToken(db, { name: options.name, role: options.role });
        await auditFromCli(db, {
          actor: CLI_ACTOR,
          action: 'api_token.create',
          target: { type: 'api_token', id: created.apiToken.id },
          details: { name: created.apiToken.name, role: created.apiToken.role },
        });
        return created;
      });
      if (options.json) {
        printJson({ token, id: apiToken.id, name: apiToken.name, role: apiToken.role });
        return;
      }
      line.ok(`API token "${apiToken.name}" created (role ${apiToken.role}, id ${apiToken.id})`);
      line.info('copy it now: it is not stored and cannot be shown again');
      console.log(token);
    });

  group
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const tokens = await withDatabase(cliConfig(), ({ db }) => listApiTokens(db));
      if (options.json) printJson(tokens.map(tokenJson));
      else printTable(tokens);
    });

  group
    .command('revoke')
    .description('revoke the live token with this name (or id): it stops working at once')
    .argument('<name-or-id>')
    .action(async (nameOrId: string) => {
      const revoked = await withDatabase(cliConfig(), async ({ db }) => {
        const token = await revokeApiToken(db, nameOrId);
        if (token) {
          await auditFromCli(db, {
            actor: CLI_ACTOR,
            action: 'api_token.revoke',
            target: { type: 'api_token', id: token.id },
            details: { name: token.name },
          });
        }
        return token;
      });
      if (!revoked) throw new CliError(`no live API token named or with id "${nameOrId}"`);
      line.ok(`API token "${revoked.name}" revoked`);
    });
}

/** The audit row is written after the action; failing to write it is reported, not a reason to undo it. */
async function auditFromCli(db: Db, input: AuditInput): Promise<void> {
  await insertAudit(db, input).catch((error: unknown) => {
    line.warn(
      `the audit log could not be written: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
}

function tokenJson(token: ApiToken): Record<string, unknown> {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

function printTable(tokens: ApiToken[]): void {
  if (tokens.length === 0) {
    line.info('no API tokens yet: chatbot api-token create --name NAME --role agent');
    return;
  }
  const at = (date: Date | null) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : '—');
  const header = ['NAME', 'ROLE', 'ID', 'CREATED', 'LAST USED', 'REVOKED'];
  const rows = tokens.map((t) => [t.name, t.role, t.id, at(t.createdAt), at(t.lastUsedAt), at(t.revokedAt)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}
