/**
 * The simulator's web side: the chat page and its small JSON API. A message typed on the page enters the same
 * pipeline as a Twilio webhook (stored, logged in the webhook log, queued, answered by the worker, sent through the
 * simulator channel); only the adapter at the edges differs. Routes that call use cases are the HTTP layer, as
 * the Twilio webhook is; channels/simulator/ keeps the adapter (the Channel, input parsing, the page's files).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebhookLogInput } from '../../db/webhook-logs.js';
import { AppError, HTTP_STATUS, isAppError } from '../../domain/errors.js';
import { stripControlChars } from '../../domain/sanitize.js';
import type { InboundMessage } from '../../domain/types.js';
import { headersForLog } from '../form.js';
import { acceptInbound } from '../../pipeline/accept-inbound.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { recordStatus } from '../../pipeline/record-status.js';
import { SIMULATOR_BUSINESS_ADDRESS, type SimulatorChannel } from '../../channels/simulator/channel.js';
import { pageAddress, registerEvents } from './events.js';
import { registerSimulatorMedia } from './media.js';
import { parseAddressQuery, parseInbound, parseReadReceipt } from '../../channels/simulator/input.js';
import { registerPage } from '../../channels/simulator/page.js';
import { simulatorConversations, simulatorThread } from '../../db/simulator-thread.js';

type Deps = Pick<
  PipelineDeps,
  | 'db'
  | 'queue'
  | 'limiter'
  | 'locks'
  | 'log'
  | 'settings'
  | 'auditLog'
  | 'unqueued'
  | 'channelFor'
  | 'report'
  | 'media'
>;
type LoggedKind = WebhookLogInput['kind'];

export function registerSimulator(app: FastifyInstance, deps: Deps, channel: SimulatorChannel): void {
  registerPage(app);
  registerEvents(app, deps, channel);

  void app.register((scope, _opts, done) => {
    scope.post('/simulator/api/messages', async (request, reply) => {
      const started = performance.now();
      (request as { simulatorKind?: LoggedKind }).simulatorKind = 'inbound';
      const input = parseInbound(request.body);
      const message: InboundMessage = {
        channel: 'simulator',
        providerMessageId: `SIM${randomBytes(16).toString('hex')}`,
        from: `whatsapp:${input.from}`,
        to: SIMULATOR_BUSINESS_ADDRESS,
        body: input.body,
        content: { type: 'text', text: input.body },
        context: {},
        profileName: input.profileName,
        metadata: {},
      };
      // The log row is written once the accept is done, so its processing time covers all of it (storing,
      // the rate limit, queueing), not just the parsing before it.
      const accepted = await acceptInbound(deps, message, request.id);
      deps.auditLog.write({
        ...logEntry(request, 'inbound', 202, started),
        providerMessageId: message.providerMessageId,
      });
      request.log.info(
        { messageId: accepted.messageId, conversationId: accepted.conversationId },
        'simulator message accepted',
      );
      return reply.status(202).send({
        messageId: accepted.messageId,
        conversationId: accepted.conversationId,
        providerMessageId: message.providerMessageId,
      });
    });

    // The page calls this once it has shown a part to the person: the `read` receipt of a real handset.
    scope.post('/simulator/api/read', async (request) => {
      const started = performance.now();
      (request as { simulatorKind?: LoggedKind }).simulatorKind = 'status';
      const { providerMessageId } = parseReadReceipt(request.body);
      const { known } = await recordStatus(deps, { providerMessageId, status: 'read', errorCode: null });
      channel.markStatus(providerMessageId, 'read');
      writeLog(deps, { ...logEntry(request, 'status', 200, started), providerMessageId });
      return { providerMessageId, status: 'read', known };
    });

    scope.get<{ Querystring: { address?: string } }>('/simulator/api/conversations', async (request) => {
      const raw = request.query.address;
      if (raw === undefined || raw === '') {
        const list = await readDb(() => simulatorConversations(deps.db));
        return { conversations: list.map((entry) => ({ ...entry, address: pageAddress(entry.address) })) };
      }
      const address = parseAddressQuery(raw);
      const thread = await readDb(() => simulatorThread(deps.db, `whatsapp:${address}`));
      return {
        address,
        conversation: thread.conversation && { ...thread.conversation, address },
        messages: thread.messages,
      };
    });

    registerSimulatorMedia(scope, deps);

    // A refused message or receipt is written to the audit log too, with the status we answered.
    scope.addHook('onError', async (request, _reply, error) => {
      const kind = (request as { simulatorKind?: LoggedKind }).simulatorKind;
      if (!kind || !isAppError(error) || error.kind === 'database_unavailable') return;
      writeLog(deps, { ...logEntry(request, kind, HTTP_STATUS[error.kind], 0), error: error.message });
    });
    done();
  });
}

async function readDb<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new AppError('database_unavailable', 'could not read the simulator conversation', { cause: error });
  }
}

function logEntry(
  request: FastifyRequest,
  kind: LoggedKind,
  responseStatus: number,
  started: number,
): WebhookLogInput {
  return {
    channel: 'simulator',
    kind,
    method: request.method,
    path: request.url,
    headers: headersForLog(request.headers),
    body: loggableBody(request.body),
    responseStatus,
    processingTimeMs: started > 0 ? performance.now() - started : 0,
  };
}

/** The body as received, minus control characters (PostgreSQL's jsonb refuses NUL, and logs should not carry them). */
function loggableBody(body: unknown): Record<string, unknown> {
  // An upload's bytes are not logged: their size says enough.
  if (Buffer.isBuffer(body)) return { sizeBytes: body.length };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const json = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'string' ? stripControlChars(value) : value,
  );
  return JSON.parse(json) as Record<string, unknown>;
}

function writeLog(deps: Deps, entry: WebhookLogInput): void {
  deps.auditLog.write(entry);
}
