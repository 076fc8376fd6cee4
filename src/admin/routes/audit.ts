/** GET /admin/audit: the audit log, newest first, an "older" link per page; admins only (routes.ts). */
import type { FastifyInstance } from 'fastify';
import { listAudit, type AuditCursor } from '../../db/audit-log.js';
import { sessionOf } from '../auth.js';
import { textParam } from '../params.js';
import { sendPage, type AdminContext } from '../routes.js';
import { auditPage } from '../views/audit.js';

const PAGE_SIZE = 50;
const CURSOR =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** `<microsecond UTC time>_<id>`, as the page's "older" link writes it; anything else means the first page. */
export function parseCursor(value: unknown): AuditCursor | undefined {
  const match = typeof value === 'string' ? CURSOR.exec(value) : null;
  return match?.[1] && match[2] ? { at: match[1], id: match[2] } : undefined;
}

export function formatCursor(cursor: AuditCursor): string {
  return `${cursor.at}_${cursor.id}`;
}

export function registerAuditRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  scope.get<{ Querystring: Record<string, string | undefined> }>('/audit', async (request, reply) => {
    const action = textParam(request.query.action, 100).trim();
    const actor = textParam(request.query.actor, 150).trim();
    const before = parseCursor(request.query.before);
    // One more than shown: whether an older page exists, without counting the table.
    const rows = await listAudit(deps.db, {
      limit: PAGE_SIZE + 1,
      before,
      action: action || undefined,
      actorName: actor || undefined,
    });
    const entries = rows.slice(0, PAGE_SIZE);
    const last = entries.at(-1);
    return sendPage(
      reply,
      auditPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        entries,
        filter: { action, actor },
        paged: before !== undefined,
        older: rows.length > PAGE_SIZE && last ? formatCursor(last.cursor) : null,
      }),
    );
  });
}
