/**
 * Conversations: the searchable list (number, name or message text) and one conversation's page. What an operator
 * does on it is in conversation-actions.ts; its live thread in conversation-events.ts.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { conversationThread, listConversations, type ConversationFilter } from '../../db/admin-queries.js';
import { listNotes } from '../../db/conversation-notes.js';
import { getConversation } from '../../db/conversations.js';
import { assignableOperators, handoffFacts } from '../../db/inbox.js';
import { conversationOptOut } from '../../db/opt-outs.js';
import { AppError } from '../../domain/errors.js';
import { can } from '../../domain/roles.js';
import { hasServiceWindow, serviceWindow } from '../../domain/window.js';
import { requireRole, sessionOf } from '../auth.js';
import { idParam, oneOf, pageParam, pastLastPage, textParam } from '../params.js';
import { sendPage, type AdminContext } from '../routes.js';
import { conversationListPage } from '../views/conversation-list.js';
import { conversationPage, DONE_NOTICES } from '../views/conversation.js';

const FILTERS: readonly ConversationFilter[] = ['all', 'active', 'inactive', 'paused'];
const PAGE_SIZE = 25;
/** The thread page shows this many of the newest messages. */
const THREAD_LIMIT = 500;

type Query = Record<string, string | undefined>;

export function registerConversationRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  scope.get<{ Querystring: Query }>('/conversations', async (request, reply) => {
    requireRole(request, 'conversations.read');
    const search = textParam(request.query.q).trim();
    const filter = oneOf(request.query.filter, FILTERS, 'all');
    const page = pageParam(request.query.page);
    const result = await listConversations(deps.db, { search, filter, page, pageSize: PAGE_SIZE });
    const lastPage = pastLastPage(request.url, result);
    if (lastPage) return reply.redirect(lastPage, 302);
    return sendPage(
      reply,
      conversationListPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        search,
        filter,
        result,
      }),
    );
  });

  scope.get<{ Params: { id: string }; Querystring: Query }>('/conversations/:id', async (request, reply) => {
    requireRole(request, 'conversations.read');
    const id = idParam(request.params.id, 'conversation');
    const session = sessionOf(request);
    const [conversation, handoff] = await Promise.all([
      getConversation(deps.db, id),
      handoffFacts(deps.db, id),
    ]);
    if (!conversation || !handoff) throw new AppError('not_found', 'No conversation with this id.');
    const [thread, notes, operators, optOut] = await Promise.all([
      conversationThread(deps.db, id, THREAD_LIMIT),
      listNotes(deps.db, id),
      can(session.role, 'conversations.assign') ? assignableOperators(deps.db) : Promise.resolve([]),
      conversationOptOut(deps.db, id),
    ]);
    const done = oneOf(request.query.done, Object.keys(DONE_NOTICES), '');
    const now = new Date();
    return sendPage(
      reply,
      conversationPage({
        session,
        simulatorEnabled: options.simulatorEnabled,
        conversation,
        thread,
        done,
        handoff,
        notes,
        operators,
        optOut,
        requestKey: randomUUID(),
        now,
        window: {
          state: serviceWindow(conversation.channel, conversation.lastInboundAt, now),
          applies: hasServiceWindow(conversation.channel),
          template: deps.settings.windowTemplates[conversation.channel] !== undefined,
        },
      }),
    );
  });
}
