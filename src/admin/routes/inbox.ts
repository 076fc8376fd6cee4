/** GET /admin/inbox: the conversations that need a human, oldest waiting first, filtered mine / unassigned / all. */
import type { FastifyInstance } from 'fastify';
import { needsHuman, type InboxFilter } from '../../db/inbox.js';
import { requireRole, sessionOf } from '../auth.js';
import { oneOf } from '../params.js';
import { sendPage, type AdminContext } from '../routes.js';
import { inboxPage } from '../views/inbox.js';

const FILTERS: readonly InboxFilter[] = ['all', 'mine', 'unassigned'];

export function registerInbox(scope: FastifyInstance, { deps, options }: AdminContext): void {
  scope.get<{ Querystring: Record<string, string | undefined> }>('/inbox', async (request, reply) => {
    requireRole(request, 'conversations.read');
    const session = sessionOf(request);
    const filter = oneOf(request.query.filter, FILTERS, 'all');
    const result = await needsHuman(deps.db, { filter, userId: session.userId });
    return sendPage(
      reply,
      inboxPage({
        session,
        simulatorEnabled: options.simulatorEnabled,
        filter,
        result,
        assigned: request.query.done === 'assigned',
        now: new Date(),
      }),
    );
  });
}
