/**
 * A template to many (`chatbot broadcast`): each recipient through deliverProactive under the key
 * `broadcast:<campaign>:<address>`, so a run killed halfway and started again with the same campaign stores (and
 * so sends) nobody twice: the recipients already stored come back `created: false` and cost no pacing. New
 * messages are paced at `ratePerSecond` per sending number, so the worker sends them at the number's pace rather
 * than a burst WhatsApp would throttle. Refusals (opted out, outside the window, a bad row) are skipped with
 * their reason. Each run is audited twice: `message.broadcast.started` before the first recipient (with how many),
 * and `message.broadcast` with the report at the end, so a run killed midway still shows in the audit log.
 */
import type { BroadcastRow } from '../domain/broadcast-list.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { isContentSid } from '../domain/template.js';
import { insertAudit } from '../db/audit-log.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';
import { deliverProactive, senderFor, type ProactiveDeps } from './send-proactive.js';

export interface BroadcastRequest {
  actor: Actor;
  /** Names the broadcast in its messages' keys: the same campaign again sends only to whom it did not reach. */
  campaignId: string;
  templateId: string;
  from?: string | undefined;
  rows: BroadcastRow[];
  /** New messages stored per second, at most. */
  ratePerSecond: number;
  /** Told after each row (the CLI's progress line). */
  onRow?: (result: RowResult) => void;
  /** The clock and the wait; a test's virtual clock may replace both. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type RowOutcome = 'sent' | 'already_sent' | 'skipped' | 'failed';

export interface RowResult {
  line: number;
  to: string;
  outcome: RowOutcome;
  /** Why it was skipped or failed: `opted_out`, `outside_window`, `invalid_address`, … or the error's kind. */
  reason?: string;
  messageId?: string;
}

export interface BroadcastReport {
  campaignId: string;
  templateId: string;
  recipients: number;
  /** Stored and queued by this run (the worker delivers them; statuses arrive as for replies). */
  sent: number;
  /** Stored by an earlier run of the same campaign: not sent again. */
  alreadySent: number;
  skipped: Record<string, number>;
  failed: number;
  /** Every row that was skipped or failed, with its reason. */
  problems: RowResult[];
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function broadcastTemplate(
  deps: ProactiveDeps,
  request: BroadcastRequest,
): Promise<BroadcastReport> {
  requirePermission(request.actor, 'conversations.reply');
  // Refused once, before any row, rather than once per row.
  await senderFor(deps, request.from);
  if (!isContentSid(request.templateId))
    throw new AppError('invalid_input', `"${request.templateId}" is not a Content SID (HX + 32 hex digits)`, {
      code: 'invalid_template',
    });
  const sleep = request.sleep ?? sleepFor;
  const now = request.now ?? Date.now;
  const interval = 1000 / request.ratePerSecond;
  const report: BroadcastReport = {
    campaignId: request.campaignId,
    templateId: request.templateId,
    recipients: request.rows.length,
    sent: 0,
    alreadySent: 0,
    skipped: {},
    failed: 0,
    problems: [],
  };
  // Before anything is sent, and refused if it cannot be written: a broadcast leaves a trace even if it dies.
  await insertAudit(deps.db, {
    actor: request.actor,
    action: 'message.broadcast.started',
    target: { type: 'campaign', id: request.campaignId },
    details: { templateId: request.templateId, recipients: request.rows.length },
  });
  let nextAt = 0;
  for (const row of request.rows) {
    let result: RowResult;
    if ('skip' in row) {
      result = { line: row.line, to: row.input, outcome: 'skipped', reason: row.skip };
    } else {
      const wait = nextAt - now();
      if (wait > 0) await sleep(wait);
      const startedAt = now();
      result = await sendOne(deps, request, row);
      if (result.outcome === 'sent') nextAt = Math.max(nextAt, startedAt) + interval;
    }
    tally(report, result);
    request.onRow?.(result);
  }
  await audit(deps, {
    actor: request.actor,
    action: 'message.broadcast',
    target: { type: 'campaign', id: request.campaignId },
    details: {
      templateId: report.templateId,
      recipients: report.recipients,
      sent: report.sent,
      alreadySent: report.alreadySent,
      skipped: report.skipped,
      failed: report.failed,
    },
  });
  return report;
}

async function sendOne(
  deps: ProactiveDeps,
  request: BroadcastRequest,
  row: Extract<BroadcastRow, { to: string }>,
): Promise<RowResult> {
  try {
    const sent = await deliverProactive(deps, {
      to: row.to,
      from: request.from,
      content: { type: 'template', templateId: request.templateId, variables: row.variables },
      key: `broadcast:${request.campaignId}:${row.to}`,
      author: `operator:${request.actor.id ?? request.actor.kind}`,
    });
    return {
      line: row.line,
      to: row.to,
      outcome: sent.created ? 'sent' : 'already_sent',
      messageId: sent.messageId,
    };
  } catch (error) {
    // A refusal about this person (opted out, window closed, a bad value) skips them; anything else is a failure
    // of ours, counted and reported, and the broadcast goes on: a re-run retries exactly those.
    if (isAppError(error) && (error.kind === 'conflict' || error.kind === 'invalid_input'))
      return { line: row.line, to: row.to, outcome: 'skipped', reason: error.code ?? error.kind };
    deps.log.warn({ err: error, line: row.line }, 'broadcast: a recipient failed');
    const reason = isAppError(error) ? error.kind : 'internal';
    return { line: row.line, to: row.to, outcome: 'failed', reason };
  }
}

function tally(report: BroadcastReport, result: RowResult): void {
  switch (result.outcome) {
    case 'sent':
      report.sent++;
      return;
    case 'already_sent':
      report.alreadySent++;
      return;
    case 'skipped': {
      const reason = result.reason ?? 'unknown';
      report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
      report.problems.push(result);
      return;
    }
    case 'failed':
      report.failed++;
      report.problems.push(result);
      return;
  }
}
