/**
 * Conversations: the searchable list, one thread with delivery and token figures per message, and the
 * operator's actions on it (reset the model's context, pause the bot for a human, resume).
 */
import type { FastifyInstance } from 'fastify';
import { conversationThread, listConversations, type ConversationFilter } from '../../db/admin-queries.js';
import { getConversation, resetContext, setConversationMode } from '../../db/conversations.js';
import { AppError } from '../../domain/errors.js';
import { sessionOf } from '../auth.js';
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
    const id = idParam(request.params.id, 'conversation');
    const conversation = await getConversation(deps.db, id);
    if (!conversation) throw new AppError('not_found', 'No conversation with this id.');
    const thread = await conversationThread(deps.db, id, THREAD_LIMIT);
    const done = oneOf(request.query.done, Object.keys(DONE_NOTICES), '');
    return sendPage(
      reply,
      conversationPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        conversation,
        thread,
        done,
      }),
    );
  });

  const action = (path: string, run: (id: string) => Promise<boolean>, done: string) =>
    scope.post<{ Params: { id: string } }>(`/conversations/:id/${path}`, async (request, reply) => {
      const id = idParam(request.params.id, 'conversation');
      if (!(await run(id))) throw new AppError('not_found', 'No conversation with this id.');
      request.log.info(
        { conversationId: id, user: sessionOf(request).username, action: path },
        'admin action',
      );
      return reply.redirect(`/admin/conversations/${id}?done=${done}`, 303);
    });

  // The worker reads the mode before each batch, so the next message is already left for the human.
  action('pause', (id) => setConversationMode(deps.db, id, 'paused'), 'paused');
  action('resume', (id) => setConversationMode(deps.db, id, 'bot'), 'resumed');
  action(
    'reset-context',
    async (id) => {
      const found = await resetContext(deps.db, id);
      // The cached window would otherwise keep feeding the old turns to the model until it expires.
      if (found) await deps.context.clear(id);
      return found;
    },
    'reset',
  );
}
