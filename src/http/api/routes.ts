/**
 * The HTTP API for operators and integrations, under /api/v1/: JSON in and out, bearer tokens, and the same use
 * cases as the admin (src/inbox/), so both enforce the same roles and write the same audit rows. Its own
 * encapsulated scope: its error shape, auth hook and body parsers do not touch the webhook or the admin.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { storableText } from '../../db/storable.js';
import { isAppError } from '../../domain/errors.js';
import type { Actor } from '../../domain/roles.js';
import { browseConversations, showConversation } from '../../inbox/conversations.js';
import { conversationMessages, showMessage, type MessageView } from '../../inbox/messages.js';
import { sendAsOperator } from '../../inbox/send-as-operator.js';
import { switchMode, type SwitchModeDeps } from '../../inbox/switch-mode.js';
import { actorOf, registerBearerAuth } from './auth.js';
import { OPENAPI } from './openapi.js';
import {
  conversationIdOf,
  conversationListQuery,
  idempotencyKeyOf,
  messageListQuery,
  modeBody,
  operatorMessageBody,
  parseBody,
  parseQuery,
} from './params.js';
import { ApiProblem, registerApiErrors } from './problem.js';

export const API_PREFIX = '/api/v1';

export interface ApiOptions {
  /** 5xx errors go to the error reporter, as the rest of the server's do. */
  onServerError?: ((error: unknown, request: FastifyRequest) => void) | undefined;
}

export function registerApi(app: FastifyInstance, deps: SwitchModeDeps, options: ApiOptions = {}): void {
  void app.register(
    (scope, _options, done) => {
      registerApiErrors(scope, options.onServerError);
      // JSON only: Fastify also reads text/plain by default, which no endpoint here accepts (→ 415).
      scope.removeContentTypeParser('text/plain');
      registerBearerAuth(scope, deps.db);
      routes(scope, deps);
      done();
    },
    { prefix: API_PREFIX },
  );
}

function routes(scope: FastifyInstance, deps: SwitchModeDeps): void {
  scope.get('/openapi.json', { config: { public: true } }, (_request, reply) => reply.send(OPENAPI));

  scope.get('/conversations', async (request) => {
    const query = parseQuery(conversationListQuery, request);
    return browseConversations(deps, { actor: actorOf(request), ...query });
  });

  scope.get('/conversations/:id', async (request) =>
    showConversation(deps, { actor: actorOf(request), conversationId: conversationIdOf(request) }),
  );

  scope.get('/conversations/:id/messages', async (request) => {
    const conversationId = conversationIdOf(request);
    const query = parseQuery(messageListQuery, request);
    return conversationMessages(deps, { actor: actorOf(request), conversationId, ...query });
  });

  scope.post('/conversations/:id/messages', async (request, reply) => {
    const conversationId = conversationIdOf(request);
    const actor = actorOf(request);
    const key = idempotencyKeyOf(request);
    const { text } = parseBody(operatorMessageBody, request);
    const sent = await sendAsOperator(deps, {
      conversationId,
      actor,
      text,
      requestKey: key ?? randomUUID(),
    });
    const message = sent.created
      ? await showMessage(deps, { actor, conversationId, messageId: sent.messageId })
      : await replayed(deps, { actor, conversationId, messageId: sent.messageId }, text);
    return reply.status(202).send({ message });
  });

  scope.post('/conversations/:id/mode', async (request) => {
    const conversationId = conversationIdOf(request);
    const actor = actorOf(request);
    const { mode } = parseBody(modeBody, request);
    await switchMode(deps, { conversationId, mode, actor, reason: 'operator' });
    return showConversation(deps, { actor, conversationId });
  });
}

/**
 * The message a repeated Idempotency-Key stored before. A key names one message: reusing it for another text or
 * another conversation is a client bug, not a resend (the text compared as stored: a NUL dropped, a lone
 * surrogate replaced).
 */
async function replayed(
  deps: SwitchModeDeps,
  request: { actor: Actor; conversationId: string; messageId: string },
  text: string,
): Promise<MessageView> {
  const message = await showMessage(deps, request).catch((error: unknown) => {
    if (isAppError(error) && error.kind === 'not_found') return null;
    throw error;
  });
  // A text sent as the window template is compared as it was written, not as the template's rendering.
  const written =
    message?.windowTemplate?.reason === 'outside_window' ? message.windowTemplate.text : message?.text;
  if (!message || written !== storableText(text)) {
    throw new ApiProblem(
      409,
      'idempotency_key_reused',
      'this Idempotency-Key was already used for another message',
    );
  }
  return message;
}
