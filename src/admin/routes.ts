/**
 * The admin web UI at /admin/: server-rendered HTML pages and plain forms, no client build step. Pages work
 * without JavaScript; admin.js only adds confirmations and busy states. Everything runs in one encapsulated
 * Fastify scope with its own cookie handling, form parser, security headers and HTML error pages, so nothing
 * here changes how the webhook or the simulator behave.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../domain/errors.js';
import type { Permission } from '../domain/roles.js';
import { registerFormParser } from '../http/form.js';
import { STORED_MEDIA_CSP } from '../http/stored-media.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { requireRole, requireSession, sessionOfOptional } from './auth.js';
import { html, type SafeHtml } from './html.js';
import { registerAiConfigRoutes } from './routes/ai-configs.js';
import { registerConversationActions } from './routes/conversation-actions.js';
import { registerConversationEvents } from './routes/conversation-events.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerConversationRoutes } from './routes/conversations.js';
import { registerCostRoutes } from './routes/costs.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerInbox } from './routes/inbox.js';
import { registerLogin, registerLogout } from './routes/login.js';
import { registerNumberRoutes } from './routes/numbers.js';
import { registerMediaRoutes } from './routes/media.js';
import { registerWebhookLogRoutes } from './routes/webhook-logs.js';
import type { AdminOptions } from './settings.js';
import { layout } from './views/layout.js';

/** The inbox's use cases (reply, mode switch) send through the outbound path: the channel, queue and settings. */
export type AdminDeps = Pick<
  PipelineDeps,
  | 'db'
  | 'queue'
  | 'context'
  | 'limiter'
  | 'ai'
  | 'log'
  | 'channelFor'
  | 'unqueued'
  | 'settings'
  | 'pricing'
  | 'media'
>;

export interface AdminContext {
  deps: AdminDeps;
  options: AdminOptions;
}

export const ADMIN_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex',
};

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(page.value);
}

const STATIC_DIR = new URL('./static/', import.meta.url);
const STATIC_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function loadStatic(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = STATIC_TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(new URL(name, STATIC_DIR)) });
  }
  return files;
}

export function registerAdmin(app: FastifyInstance, deps: AdminDeps, options: AdminOptions): void {
  const context: AdminContext = { deps, options };
  const files = loadStatic();

  void app.register(
    async (scope) => {
      await scope.register(fastifyCookie, { secret: options.sessionSecret });
      registerFormParser(scope);
      scope.addHook('onSend', async (_request, reply) => {
        // A stored file keeps its own, stricter policy (http/stored-media.ts).
        const own = reply.getHeader('content-security-policy') === STORED_MEDIA_CSP;
        for (const [name, value] of Object.entries(ADMIN_HEADERS))
          if (!(own && name === 'content-security-policy')) void reply.header(name, value);
        // Pages show conversations and settings: never kept by a browser or proxy cache.
        if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
      });
      scope.setErrorHandler((error: FastifyError, request, reply) =>
        errorPage(context, error, request, reply),
      );
      scope.setNotFoundHandler((request, reply) =>
        sendPage(reply, messagePage(request, context, 'Not found', 'There is no such admin page.'), 404),
      );

      // Only names read from the directory at start reach the file system.
      scope.get<{ Params: { file: string } }>('/static/:file', (request, reply) => {
        const file = files.get(request.params.file);
        if (!file) return sendPage(reply, html`Not found`, 404);
        return reply.header('cache-control', 'no-cache').type(file.type).send(file.body);
      });

      registerLogin(scope, context);
      await scope.register((pages, _options, done) => {
        pages.addHook('preHandler', requireSession({ db: deps.db, ttlMs: options.sessionTtlMs }));
        registerLogout(pages, context);
        // The conversation pages check each action's permission themselves (a viewer reads, an agent replies).
        registerInbox(pages, context);
        registerConversationRoutes(pages, context);
        registerConversationActions(pages, context);
        registerConversationEvents(pages, context);
        withPermission(pages, 'conversations.read', (scope) => {
          registerDashboard(scope, context);
          registerCostRoutes(scope, context);
          registerMediaRoutes(scope, context);
        });
        withPermission(pages, 'settings.manage', (scope) => {
          registerAiConfigRoutes(scope, context);
          registerNumberRoutes(scope, context);
        });
        withPermission(pages, 'webhooks.read', (scope) => {
          registerWebhookLogRoutes(scope, context);
        });
        withPermission(pages, 'audit.read', (scope) => {
          registerAuditRoutes(scope, context);
        });
        done();
      });
    },
    { prefix: '/admin' },
  );
}

/**
 * Register routes that all need `permission`: checked after the session (the parent's preHandler), for every
 * page and action of the group, so a route added later cannot forget it. A refusal is the 403 page.
 */
function withPermission(
  parent: FastifyInstance,
  permission: Permission,
  register: (scope: FastifyInstance) => void,
): void {
  void parent.register((scope, _options, done) => {
    scope.addHook('preHandler', (request, _reply, next) => {
      try {
        requireRole(request, permission);
        next();
      } catch (error) {
        next(error as Error);
      }
    });
    register(scope);
    done();
  });
}

export function messagePage(
  request: FastifyRequest,
  context: AdminContext,
  title: string,
  text: string,
): SafeHtml {
  const session = sessionOfOptional(request);
  return layout(
    { title, ...(session ? { session } : {}), simulatorEnabled: context.options.simulatorEnabled },
    html`<div class="page-head"><h1>${title}</h1></div>
      <div class="card">
        <p>${text}</p>
        <p>
          <a href="${session ? '/admin/' : '/admin/login'}"
            >${session ? 'Back to the dashboard' : 'Sign in'}</a
          >
        </p>
      </div>`,
  );
}

function errorPage(context: AdminContext, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isAppError(error)) {
    if (error.code === 'csrf')
      return sendPage(
        reply,
        messagePage(
          request,
          context,
          'Form expired',
          'This form was not sent from a current admin page. Go back, reload the page and try again.',
        ),
        403,
      );
    if (error.kind === 'not_found')
      return sendPage(reply, messagePage(request, context, 'Not found', error.message), 404);
    if (error.kind === 'invalid_input')
      return sendPage(reply, messagePage(request, context, 'Cannot do that', error.message), 400);
    if (error.kind === 'forbidden') {
      request.log.warn({ url: request.url, reason: error.message }, 'admin request refused: role');
      return sendPage(
        reply,
        messagePage(request, context, 'Not allowed', `Your account cannot do this: ${error.message}.`),
        403,
      );
    }
    if (error.kind === 'conflict')
      return sendPage(reply, messagePage(request, context, 'Cannot do that now', error.message), 409);
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    request.log.warn({ statusCode: status, code: error.code }, 'admin request refused');
    return sendPage(
      reply,
      messagePage(request, context, 'Cannot do that', 'The request was not understood.'),
      status,
    );
  }
  request.log.error({ err: error, url: request.url }, 'admin page failed');
  return sendPage(
    reply,
    messagePage(
      request,
      context,
      'Something went wrong',
      'The page could not be shown. Try again in a moment.',
    ),
    500,
  );
}
