/**
 * Meta's WhatsApp Cloud API webhook (wire facts §5.1–§5.4, §5.10): the GET verification handshake and the signed
 * POST of messages and statuses. Registered always: a Meta number added with `chatbot number add` is answered by
 * the running process once the number directory refreshes, without a restart; with no Meta number at all the path
 * answers 404, like Twilio's when Twilio is not configured.
 *
 * The POST follows the persist-before-ack rule: 200 only after every message is stored and every status applied,
 * else a 5xx so Meta redelivers (for days). Redeliveries are no-ops (dedup on the wamid).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MetaSettings } from '../config/channels.js';
import { parseMetaWebhook, type MetaChange } from '../channels/meta/inbound.js';
import { checkMetaSignature, verifyTokenMatches } from '../channels/meta/signature.js';
import type { WebhookLogInput } from '../db/webhook-logs.js';
import { AppError, HTTP_STATUS, isAppError } from '../domain/errors.js';
import { acceptInbound } from '../pipeline/accept-inbound.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { recordStatus } from '../pipeline/record-status.js';
import type { BusinessNumber, NumberDirectory } from '../ports.js';
import { headersForLog } from './form.js';
import type { IpRateLimit } from './ip-rate-limit.js';

export const META_WEBHOOK_PATH = '/api/whatsapp/meta/webhook/';

export interface MetaWebhookOptions {
  /** Every Meta number (the environment's and the database's): their app secrets and verify tokens. */
  numbers: NumberDirectory;
  /** The environment's default number (META_*): its app secret and verify token are always accepted. */
  meta: MetaSettings | null;
  /** The per-IP flood guard, told whether each POST's signature proved it is Meta's. */
  ipRateLimit?: IpRateLimit;
}

type Deps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'log' | 'settings' | 'unqueued' | 'auditLog' | 'channelFor' | 'report'
>;

/** What the route has learnt of a request by the time something fails: for the webhook log row. */
interface Seen {
  kind: 'inbound' | 'status';
  body: Record<string, unknown>;
}

/**
 * Meta batches: one POST may carry many messages and statuses (hundreds of statuses after a broadcast), far
 * over the server's webhook limit (WEBHOOK_BODY_LIMIT_BYTES, sized for Twilio's one-message forms). A batch
 * refused with 413 would come back unchanged for days and every message in it would be lost, so Meta's route
 * takes up to 4 MiB; the signature is still checked before anything is parsed.
 */
export const META_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export function registerMetaWebhook(app: FastifyInstance, deps: Deps, options: MetaWebhookOptions): void {
  const seen = new WeakMap<FastifyRequest, Seen>();
  void app.register((scope, _opts, done) => {
    // The signature is over the bytes as sent: every body is kept raw, up to META_BODY_LIMIT_BYTES.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, next) => {
      next(null, body);
    });

    scope.get(META_WEBHOOK_PATH, async (request, reply) => {
      const keys = await webhookKeys(options);
      if (!keys.configured) throw notConfigured();
      const query = request.query as Record<string, unknown>;
      const mode = query['hub.mode'];
      const token = query['hub.verify_token'];
      const challenge = query['hub.challenge'];
      const tokenMatches = typeof token === 'string' && verifyTokenMatches(token, keys.verifyTokens);
      if (mode === 'subscribe' && tokenMatches && typeof challenge === 'string' && challenge !== '')
        return reply.status(200).type('text/plain; charset=utf-8').send(challenge);
      throw new AppError(
        'forbidden',
        mode !== 'subscribe'
          ? 'Meta webhook verification refused: hub.mode is not "subscribe"'
          : !tokenMatches
            ? 'Meta webhook verification refused: hub.verify_token matches no META_VERIFY_TOKEN or Meta number'
            : 'Meta webhook verification refused: hub.challenge is missing',
      );
    });

    scope.post(META_WEBHOOK_PATH, { bodyLimit: META_BODY_LIMIT_BYTES }, async (request, reply) => {
      const started = performance.now();
      seen.set(request, { kind: 'inbound', body: {} });
      const verified = await verifiedBody(request, reply, deps, options, (unparsed) =>
        seen.set(request, { kind: 'inbound', body: { unparsed } }),
      );
      if (!verified) return reply;
      const { events, body, appSecret } = verified;
      const kind = events.changes.some((change) => change.messages.length > 0) ? 'inbound' : 'status';
      seen.set(request, { kind, body });
      if (events.skipped.length > 0)
        request.log.info({ skipped: events.skipped.slice(0, 20) }, 'Meta webhook: parts left out');
      let firstId: string | undefined;
      for (const change of events.changes) {
        const number = await options.numbers.find('meta', change.phoneNumberId);
        if (!answersFor(number, appSecret, options.meta)) {
          request.log.warn(
            {
              phoneNumberId: change.phoneNumberId,
              messages: change.messages.length,
              statuses: change.statuses.length,
            },
            number
              ? "Meta webhook for a number of ours signed with another app's secret: acknowledged, not stored"
              : 'Meta webhook for a phone number id this server does not answer: acknowledged, not stored',
          );
          continue;
        }
        // Every change is stored; the first provider id names the webhook log row.
        const stored = await storeChange(deps, change, request);
        firstId ??= stored;
      }
      deps.auditLog.write({
        ...logEntry(request, kind, body, 200, started),
        providerMessageId: firstId ?? null,
      });
      return reply.status(200).type('text/plain; charset=utf-8').send('EVENT_RECEIVED');
    });

    scope.route({
      method: ['PUT', 'PATCH', 'DELETE'],
      url: META_WEBHOOK_PATH,
      handler: (_request, reply) =>
        reply
          .status(405)
          .header('allow', 'GET, POST')
          .send({ error: 'method_not_allowed', message: `use GET or POST for ${META_WEBHOOK_PATH}` }),
    });

    // A POST that failed is also written to the webhook log, with the status we answered.
    scope.addHook('onError', async (request, _reply, error) => {
      const entry = seen.get(request);
      if (!entry || !isAppError(error) || error.kind === 'database_unavailable') return;
      deps.auditLog.write({
        ...logEntry(request, entry.kind, entry.body, HTTP_STATUS[error.kind], 0),
        error: error.message,
      });
    });
    done();
  });
}

/** Messages stored, then statuses applied, in the order Meta sent them; the first provider id, for the log row. */
async function storeChange(
  deps: Deps,
  change: MetaChange,
  request: FastifyRequest,
): Promise<string | undefined> {
  for (const message of change.messages) {
    // One at a time: a sender's messages keep their order, and the same wamid twice is found as a duplicate.
    const accepted = await acceptInbound(deps, message, request.id);
    request.log.info(
      {
        messageId: accepted.messageId,
        conversationId: accepted.conversationId,
        duplicate: accepted.duplicate,
        providerMessageId: message.providerMessageId,
      },
      accepted.duplicate ? 'redelivered message acknowledged' : 'inbound message accepted',
    );
  }
  for (const status of change.statuses) await recordStatus(deps, status);
  return change.messages[0]?.providerMessageId ?? change.statuses[0]?.providerMessageId;
}

interface WebhookKeys {
  configured: boolean;
  appSecrets: string[];
  verifyTokens: string[];
}

async function webhookKeys(options: MetaWebhookOptions): Promise<WebhookKeys> {
  const numbers = await options.numbers.list('meta');
  const secrets = new Set<string>();
  const tokens = new Set<string>();
  if (options.meta) {
    secrets.add(options.meta.appSecret);
    tokens.add(options.meta.verifyToken);
  }
  for (const number of numbers) {
    if (number.credentials.appSecret) secrets.add(number.credentials.appSecret);
    if (number.credentials.verifyToken) tokens.add(number.credentials.verifyToken);
  }
  return {
    configured: options.meta !== null || numbers.length > 0,
    appSecrets: [...secrets],
    verifyTokens: [...tokens],
  };
}

/** A number answers events signed with its own app secret (or, for the environment's number, META_APP_SECRET). */
function answersFor(number: BusinessNumber | null, appSecret: string, meta: MetaSettings | null): boolean {
  if (!number) return false;
  if (number.credentials.appSecret === appSecret) return true;
  return meta !== null && meta.phoneNumberId === number.address && meta.appSecret === appSecret;
}

function notConfigured(): AppError {
  return new AppError(
    'not_found',
    'the Meta channel is not configured on this server (META_* variables or `chatbot number add --channel meta`)',
  );
}

/**
 * The body as JSON once its signature is proven, before anything is parsed; else 401 (no signature), 403 (a wrong
 * or malformed one), 400 (signed but not JSON), or 429 (undefined: the answer is sent) over the per-IP limit.
 */
async function verifiedBody(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: Deps,
  options: MetaWebhookOptions,
  /** Told the start of a signed body that is not JSON, for the webhook log row. */
  onUnparsed: (text: string) => void,
) {
  const overLimit = () => options.ipRateLimit?.refused(request, reply) === true;
  const keys = await webhookKeys(options);
  if (!keys.configured) {
    if (overLimit()) return undefined;
    throw notConfigured();
  }
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const header = request.headers['x-hub-signature-256'];
  const check = checkMetaSignature(header, raw, keys.appSecrets);
  if (check.kind !== 'valid') {
    if (overLimit()) return undefined;
    if (check.kind === 'missing')
      throw new AppError('unauthorized', 'X-Hub-Signature-256 is missing: the request is not signed by Meta');
    // The only line for a refused signature (the error handler does not log bad_signature again).
    deps.log.warn(
      {
        kind: 'bad_signature',
        ip: request.ip,
        signature: check.kind,
        appSecretsTried: keys.appSecrets.length,
        bytes: raw.length,
        requestId: request.id,
      },
      `Meta webhook signature rejected: ${check.kind} X-Hub-Signature-256`,
    );
    throw new AppError('bad_signature', 'invalid X-Hub-Signature-256');
  }
  options.ipRateLimit?.trust(request);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    onUnparsed(raw.toString('utf8').slice(0, 2000));
    throw new AppError(
      'invalid_input',
      `Meta webhook body is not JSON (its signature is valid): ${String(error)}`,
    );
  }
  const events = parseMetaWebhook(body);
  return { events, body: body as Record<string, unknown>, appSecret: check.appSecret };
}

function logEntry(
  request: FastifyRequest,
  kind: 'inbound' | 'status',
  body: Record<string, unknown>,
  responseStatus: number,
  started: number,
): WebhookLogInput {
  return {
    channel: 'meta',
    kind,
    method: request.method,
    path: request.url,
    headers: headersForLog(request.headers),
    body,
    responseStatus,
    processingTimeMs: started > 0 ? performance.now() - started : 0,
  };
}
