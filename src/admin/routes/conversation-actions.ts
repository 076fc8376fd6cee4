/**
 * What an operator does on a conversation, each through the use case the API shares (src/inbox/): switch the mode
 * (and the old pause/resume paths), reset the context, reply, assign, add a note. The use cases check the role
 * and write the audit row; a viewer's POST is a 403 page. Each form posts and is redirected back (no JavaScript
 * needed); the composer answers JSON to admin.js, which sends it in the background.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConversationMode } from '../../domain/conversation-mode.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { addNote } from '../../inbox/add-note.js';
import { assign } from '../../inbox/assign.js';
import { resetContext } from '../../inbox/reset-context.js';
import { sendAsOperator } from '../../inbox/send-as-operator.js';
import { switchMode } from '../../inbox/switch-mode.js';
import { actorOf, formField } from '../auth.js';
import { idParam, oneOf } from '../params.js';
import type { AdminContext } from '../routes.js';
import { MAX_REPLY_LENGTH } from '../views/conversation-actions.js';

type Params = { Params: { id: string } };

const MODES: readonly ConversationMode[] = ['bot', 'human', 'paused'];
const MODE_DONE: Record<ConversationMode, string> = { human: 'handed', bot: 'resumed', paused: 'paused' };
/** The composer's nonce: what randomUUID and admin.js's crypto.randomUUID make, nothing a URL could smuggle. */
const REQUEST_KEY = /^[A-Za-z0-9-]{8,64}$/;

function back(reply: FastifyReply, id: string, done: string, anchor = ''): FastifyReply {
  return reply.redirect(`/admin/conversations/${id}?done=${done}${anchor}`, 303);
}

function wantsJson(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('application/json') === true;
}

export function registerConversationActions(scope: FastifyInstance, { deps }: AdminContext): void {
  const modeRoute = (path: string, modeOf: (request: FastifyRequest) => ConversationMode) =>
    scope.post<Params>(`/conversations/:id/${path}`, async (request, reply) => {
      const id = idParam(request.params.id, 'conversation');
      const mode = modeOf(request);
      await switchMode(deps, { conversationId: id, mode, actor: actorOf(request), reason: 'operator' });
      return back(reply, id, MODE_DONE[mode]);
    });
  modeRoute('mode', (request) => {
    const mode = formField(request.body, 'mode');
    if (!mode || !(MODES as readonly string[]).includes(mode))
      throw new AppError('invalid_input', 'Choose bot, human or paused.');
    return mode as ConversationMode;
  });
  // The paths of the earlier pause/resume buttons keep working (bookmarks, scripts).
  modeRoute('pause', () => 'paused');
  modeRoute('resume', () => 'bot');

  scope.post<Params>('/conversations/:id/reset-context', async (request, reply) => {
    const id = idParam(request.params.id, 'conversation');
    await resetContext(deps, { conversationId: id, actor: actorOf(request) });
    return back(reply, id, 'reset');
  });

  scope.post<Params>('/conversations/:id/messages', async (request, reply) => {
    const id = idParam(request.params.id, 'conversation');
    const text = (formField(request.body, 'text') ?? '').trim();
    const requestKey = formField(request.body, 'requestKey') ?? '';
    if (text === '') throw new AppError('invalid_input', 'Write a message first.');
    if (text.length > MAX_REPLY_LENGTH)
      throw new AppError('invalid_input', `A message is at most ${MAX_REPLY_LENGTH} characters.`);
    if (!REQUEST_KEY.test(requestKey))
      throw new AppError('invalid_input', 'The form is incomplete: reload the page and try again.');
    const sending = sendAsOperator(deps, { conversationId: id, actor: actorOf(request), text, requestKey });
    if (wantsJson(request)) {
      // The composer shows why a state refused it (outside the 24-hour window, …); the form gets the error page.
      const sent = await sending.catch((error: unknown) => {
        if (isAppError(error) && error.kind === 'conflict') return error;
        throw error;
      });
      if (isAppError(sent))
        return reply.status(409).send({ error: { code: sent.code ?? 'conflict', message: sent.message } });
      return reply.status(202).send({
        messageId: sent.messageId,
        created: sent.created,
        queued: sent.queued,
        sentAsTemplate: sent.sentAsTemplate,
      });
    }
    await sending;
    return back(reply, id, 'sent', '#composer');
  });

  scope.post<Params>('/conversations/:id/assign', async (request, reply) => {
    const id = idParam(request.params.id, 'conversation');
    const actor = actorOf(request);
    const chosen = formField(request.body, 'assignee') ?? '';
    const assigneeId = chosen === 'me' ? actor.id : chosen === '' ? null : idParam(chosen, 'account');
    await assign(deps, { conversationId: id, actor, assigneeId });
    const returnTo = oneOf(formField(request.body, 'return'), ['inbox', 'conversation'], 'conversation');
    if (returnTo === 'inbox') return reply.redirect('/admin/inbox?done=assigned', 303);
    return back(reply, id, 'assigned');
  });

  scope.post<Params>('/conversations/:id/notes', async (request, reply) => {
    const id = idParam(request.params.id, 'conversation');
    await addNote(deps, {
      conversationId: id,
      actor: actorOf(request),
      body: formField(request.body, 'body') ?? '',
    });
    return back(reply, id, 'noted', '#notes');
  });
}
