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
import { eraseUserData, exportUserData, type DataRightsDeps } from '../../inbox/data-rights.js';
import { conversationMessages, showMessage, type MessageView } from '../../inbox/messages.js';
import { requirePermission } from '../../inbox/permission.js';
import { sendAsOperator } from '../../inbox/send-as-operator.js';
import {
  proactiveStoredText,
  sendProactive,
  type ProactiveContent,
  type SentProactive,
} from '../../inbox/send-proactive.js';
import { switchMode, type SwitchModeDeps } from '../../inbox/switch-mode.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { actorOf, registerBearerAuth } from './auth.js';
import { costRoutes } from './cost-routes.js';
import { OPENAPI } from './openapi.js';
import {
  conversationIdOf,
  conversationListQuery,
  idempotencyKeyOf,
  userAddressOf,
  messageListQuery,
  modeBody,
  operatorMessageBody,
  parseBody,
  proactiveMessageBody,
  parseQuery,
} from './params.js';
import { ApiProblem, registerApiErrors } from './problem.js';

export const API_PREFIX = '/api/v1';

export interface ApiOptions {
  /** 5xx errors go to the error reporter, as the rest of the server's do. */
  onServerError?: ((error: unknown, request: FastifyRequest) => void) | undefined;
  /** The data-rights endpoints' settings (the pseudonym key); without them, /users/… is not served. */
  dataRights?:
    Pick<DataRightsDeps, 'pseudonymize' | 'knownPseudonyms' | 'webhookLogRetentionDays'> | undefined;
}

export type ApiDeps = SwitchModeDeps &
  Pick<PipelineDeps, 'limiter' | 'locks' | 'numbers'> &
  Partial<Pick<PipelineDeps, 'pricing'>>;

export function registerApi(app: FastifyInstance, deps: ApiDeps, options: ApiOptions = {}): void {
  void app.register(
    (scope, _options, done) => {
      registerApiErrors(scope, options.onServerError);
      // JSON only: Fastify also reads text/plain by default, which no endpoint here accepts (→ 415).
      scope.removeContentTypeParser('text/plain');
      registerBearerAuth(scope, deps.db);
      routes(scope, deps);
      costRoutes(scope, deps);
      if (options.dataRights) dataRightsRoutes(scope, { ...deps, ...options.dataRights });
      done();
    },
    { prefix: API_PREFIX },
  );
}

function routes(scope: FastifyInstance, deps: ApiDeps): void {
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
    // The role first: a viewer's POST is a 403 whatever its body says.
    requirePermission(actor, 'conversations.reply');
    const key = idempotencyKeyOf(request);
    const { text } = parseBody(operatorMessageBody, request);
    const sent = await sendAsOperator(deps, {
      conversationId,
      actor,
      text,
      requestKey: key ?? randomUUID(),
    });
    // A repeated key for another text or conversation was refused by the use case (409 idempotency_key_reused).
    const message = await showMessage(deps, { actor, conversationId, messageId: sent.messageId });
    return reply.status(202).send({ message });
  });

  scope.post('/messages', async (request, reply) => {
    const actor = actorOf(request);
    const key = idempotencyKeyOf(request);
    const body = parseBody(proactiveMessageBody, request);
    const content: ProactiveContent =
      body.template === undefined
        ? { type: 'text', text: body.text ?? '' }
        : {
            type: 'template',
            templateId: body.template.id,
            variables: body.template.variables ?? {},
            ...(body.template.language === undefined ? {} : { language: body.template.language }),
          };
    const sent: SentProactive = await sendProactive(deps, {
      actor,
      to: body.to,
      from: body.from,
      content,
      requestKey: key ?? randomUUID(),
    }).catch((error: unknown) => {
      // A bad address, sender or template is a body that does not fit, as a schema mismatch is: 422 with its code.
      if (isAppError(error) && error.kind === 'invalid_input')
        throw new ApiProblem(422, error.code ?? 'invalid_body', error.message);
      throw error;
    });
    const conversationId = sent.conversationId;
    const message = sent.created
      ? await showMessage(deps, { actor, conversationId, messageId: sent.messageId })
      : await replayed(
          deps,
          { actor, conversationId, messageId: sent.messageId },
          proactiveStoredText(content),
        );
    const conversation = await showConversation(deps, { actor, conversationId });
    return reply.status(202).send({ message, conversation });
  });

  scope.post('/conversations/:id/mode', async (request) => {
    const conversationId = conversationIdOf(request);
    const actor = actorOf(request);
    requirePermission(actor, 'conversations.mode');
    const { mode } = parseBody(modeBody, request);
    await switchMode(deps, { conversationId, mode, actor, reason: 'operator' });
    return showConversation(deps, { actor, conversationId });
  });
}

/** A person's data rights, admins only: `{address}` is their channel address, URL-encoded. */
function dataRightsRoutes(scope: FastifyInstance, deps: DataRightsDeps): void {
  scope.get('/users/:address/export', async (request) =>
    exportUserData(deps, { actor: actorOf(request), address: userAddressOf(request) }),
  );

  // 200 with what went (a 204 could not say it); a second DELETE is a 404: nothing is held any more.
  scope.delete('/users/:address', async (request) =>
    eraseUserData(deps, { actor: actorOf(request), address: userAddressOf(request), confirm: true }),
  );
}

/**
 * The message a repeated Idempotency-Key of a proactive send stored before. A key names one message: reusing it
 * for another text or another person is a client bug, not a resend (the text compared as stored: a NUL dropped,
 * a lone surrogate replaced).
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
