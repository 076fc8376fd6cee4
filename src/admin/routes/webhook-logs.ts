/** Webhook logs: every inbound and status call, filterable by outcome, with the payload (secrets redacted). */
import type { FastifyInstance } from 'fastify';
import { getWebhookLog, listWebhookLogs, type WebhookStatusFilter } from '../../db/admin-queries.js';
import { AppError } from '../../domain/errors.js';
import { sessionOf } from '../auth.js';
import { idParam, oneOf, pageParam, pastLastPage } from '../params.js';
import { redactPayload } from '../redact-payload.js';
import { sendPage, type AdminContext } from '../routes.js';
import { webhookLogListPage, webhookLogPage } from '../views/webhook-logs.js';

const STATUSES: readonly WebhookStatusFilter[] = ['all', 'ok', 'client-error', 'server-error', 'error'];
const KINDS = ['all', 'inbound', 'status'] as const;
const PAGE_SIZE = 50;

export function registerWebhookLogRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  scope.get<{ Querystring: Record<string, string | undefined> }>('/webhook-logs', async (request, reply) => {
    const status = oneOf(request.query.status, STATUSES, 'all');
    const kind = oneOf(request.query.kind, KINDS, 'all');
    const page = pageParam(request.query.page);
    const result = await listWebhookLogs(deps.db, {
      status,
      ...(kind === 'all' ? {} : { kind }),
      page,
      pageSize: PAGE_SIZE,
    });
    const lastPage = pastLastPage(request.url, result);
    if (lastPage) return reply.redirect(lastPage, 302);
    return sendPage(
      reply,
      webhookLogListPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        status,
        kind,
        result,
      }),
    );
  });

  scope.get<{ Params: { id: string } }>('/webhook-logs/:id', async (request, reply) => {
    const log = await getWebhookLog(deps.db, idParam(request.params.id, 'webhook log entry'));
    if (!log) throw new AppError('not_found', 'No webhook log entry with this id.');
    return sendPage(
      reply,
      webhookLogPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        log: {
          ...log,
          headers: redactPayload(log.headers, options.redact) as Record<string, unknown>,
          body: redactPayload(log.body, options.redact) as Record<string, unknown>,
          error: log.error === null ? null : options.redact(log.error),
        },
      }),
    );
  });
}
