/**
 * Record an operator action. An audit row that cannot be written is logged loudly but does not undo the action
 * it describes (the message was already sent, the mode already switched): losing the action to save its record
 * would be worse for the customer.
 */
import { insertAudit, type AuditInput } from '../db/audit-log.js';
import type { PipelineDeps } from '../pipeline/deps.js';

export async function audit(deps: Pick<PipelineDeps, 'db' | 'log'>, input: AuditInput): Promise<void> {
  await insertAudit(deps.db, input).catch((error: unknown) => {
    deps.log.error(
      { err: error, action: input.action, actor: input.actor.name, target: input.target },
      'audit log write failed',
    );
  });
}
