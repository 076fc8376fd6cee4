import { randomUUID } from 'node:crypto';
import {
  fastify,
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { HTTP_STATUS, isAppError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import { lazyRequestLogger } from './lazy-request-logger.js';

export interface ServerOptions {
  log: Logger;
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** A request must arrive whole (headers and body) within this; slow senders get 408. 15 s by default. */
  requestTimeoutMs?: number;
  /** Takes over logging of 5xx errors (the error reporter: category, severity, admin alert). */
  onServerError?: (error: unknown, request: FastifyRequest) => void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/**
 * The Fastify app with what every route shares: a body limit, request ids (taken from X-Request-Id when
 * present so one id can follow a message end to end), request timeouts, and the one error handler that maps
 * AppError kinds to statuses. Unknown errors become a generic 500 and one log line with the stack; every other
 * error one line too, except a bad_signature, which the route that checked the signature has logged already.
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const app = fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- keeps the app's type the default FastifyInstance
    loggerInstance: options.log as FastifyBaseLogger,
    // requestIdLogLabel: the key the worker's lines use for the id, so one search finds a message end to end.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimitBytes,
    trustProxy: options.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // The per-request child logger is made only when a line is written through it.
    childLoggerFactory: lazyRequestLogger,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    // Longer than the request timeout, so a slow request gets its 408 before the idle socket is cut silently.
    connectionTimeout: (options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) + 5000,
    // Node checks those timeouts only every 30 s by default, which lets a slow-header (slowloris) client hold a
    // connection for up to 45 s; checking every second holds it to the timeout.
    http: {
      headersTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    },
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
  });

  // A request still running when close() starts keeps its keep-alive connection open once answered, and
  // server.close() waits for that connection until the client drops it: SIGTERM during a webhook made the
  // process hang until the forced exit (code 1). Answering it with `Connection: close` lets the close finish.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    if (isAppError(error)) {
      const status = HTTP_STATUS[error.kind];
      if (status >= 500 && options.onServerError) options.onServerError(error, request);
      else if (status >= 500) request.log.error({ err: error, kind: error.kind }, error.message);
      // A refused webhook signature was logged where it was checked, with what only that code knows (the URL
      // the signature was verified against, whether one was sent): one line per forged request, not two.
      else if (error.kind !== 'bad_signature') request.log.warn({ kind: error.kind }, error.message);
      return reply
        .status(status)
        .send({ error: error.kind, message: status >= 500 ? 'service unavailable' : error.message });
    }
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      request.log.warn({ statusCode, code: (error as { code?: unknown }).code }, (error as Error).message);
      return reply.status(statusCode).send({ error: 'bad_request', message: (error as Error).message });
    }
    if (options.onServerError) options.onServerError(error, request);
    else request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'not_found' }));
  return app;
}
