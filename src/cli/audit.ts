/**
 * Audit rows for what an operator does with `chatbot` on the server: the actor is CLI_ACTOR. As in the use case
 * (inbox/audit.ts), a row that cannot be written does not undo the change already made; the CLI says so on
 * stderr instead of logging it, so a --json output stays clean.
 */
import { userInfo } from 'node:os';
import { insertAudit, type AuditInput } from '../db/audit-log.js';
import type { Db } from '../db/connect.js';
import { CLI_ACTOR } from '../domain/roles.js';
import { line } from './context.js';

export async function auditCli(db: Db, input: Omit<AuditInput, 'actor'>): Promise<void> {
  const details = { ...input.details, ...systemUser() };
  await insertAudit(db, { ...input, actor: CLI_ACTOR, details }).catch((error: unknown) => {
    line.warn(`the audit log could not be written (${input.action}): ${(error as Error).message}`);
  });
}

/** The operating-system account that ran the command: the closest thing to "who" the CLI knows. */
function systemUser(): { systemUser?: string } {
  try {
    return { systemUser: userInfo().username };
  } catch {
    // A container user without a passwd entry: the row still says it came from the CLI.
    return {};
  }
}
