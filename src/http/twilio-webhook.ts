import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TwilioSettings } from '../config/load.js';
import { verifyTwilioSignature, publicRequestUrl } from '../channels/twilio/signature.js';
import { parseTwilioInbound, parseTwilioStatus } from '../channels/twilio/inbound.js';
import type { WebhookLogInput } from '../db/webhook-logs.js';
import { AppError, HTTP_STATUS, isAppError } from '../domain/errors.js';
import { acceptInbound } from '../pipeline/accept-inbound.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { recordStatus } from '../pipeline/record-status.js';
import { headersForLog, registerFormParser, type FormParams } from './form.js';
import type { IpRateLimit } from './ip-rate-limit.js';
import type { BusinessNumber } from '../ports.js';

/** Empty TwiML: Twilio shows a text/plain body to the user, so the ack must be XML with nothing to say. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export interface TwilioWebhookOptions {
  twilio: TwilioSettings | null;
  skipSignature: boolean;
  publicBaseUrl: string | undefined;
  trustProxy: boolean;
  /**
   * The per-IP flood guard, told the outcome of each signature check: a signed request is not counted, a forged
   * or unchecked one (SKIP_WEBHOOK_SIGNATURE_VERIFICATION: nothing proves it is Twilio's) is.
   */
  ipRateLimit?: IpRateLimit;
}

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
  | 'numbers'
>;

/** POST /api/whatsapp/webhook/ (inbound messages), POST /api/whatsapp/status/ (delivery callbacks), GET probe. */
export function registerTwilioWebhook(app: FastifyInstance, deps: Deps, options: TwilioWebhookOptions): void {
  void app.register((scope, _opts, done) => {
    registerFormParser(scope);

    scope.get('/api/whatsapp/webhook/', (_request, reply) => reply.send({ status: 'ok', channel: 'twilio' }));
    // Other methods are a client's mistake worth naming: 405 with what the path takes, not a bare 404.
    for (const path of ['/api/whatsapp/webhook/', '/api/whatsapp/status/']) {
      scope.route({
        method: ['PUT', 'PATCH', 'DELETE'],
        url: path,
        handler: (_request, reply) =>
          reply
            .status(405)
            .header('allow', path.endsWith('webhook/') ? 'GET, POST' : 'POST')
            .send({ error: 'method_not_allowed', message: `use POST for ${path}` }),
      });
    }

    scope.post('/api/whatsapp/webhook/', async (request, reply) => {
      const started = performance.now();
      const checked = await checkedParams(request, reply, options, deps, 'inbound');
      if (!checked) return reply;
      const { params } = checked;
      // The length cap is the pipeline's (it answers with a notice); the body limit bounds the size here.
      const message = parseTwilioInbound(params, { maxBodyLength: Number.MAX_SAFE_INTEGER });
      if (!checked.number) {
        // Not one of our numbers (a number removed or deactivated, a console pointing here by mistake): never
        // stored, never answered from another number's persona. Acknowledged, so Twilio does not retry it.
        deps.log.warn(
          { to: params.To ?? null, requestId: request.id },
          'inbound message to an unknown business number: acknowledged, not stored',
        );
        deps.auditLog.write({
          ...logEntry(request, params, 'inbound', 200, started),
          error: 'unknown business number',
        });
        return twiml(reply);
      }
      const accepted = await acceptInbound(deps, message, request.id);
      deps.auditLog.write({
        ...logEntry(request, params, 'inbound', 200, started),
        providerMessageId: message.providerMessageId,
      });
      request.log.info(
        {
          messageId: accepted.messageId,
          conversationId: accepted.conversationId,
          duplicate: accepted.duplicate,
        },
        accepted.duplicate ? 'redelivered message acknowledged' : 'inbound message accepted',
      );
      return twiml(reply);
    });

    scope.post('/api/whatsapp/status/', async (request, reply) => {
      const started = performance.now();
      const checked = await checkedParams(request, reply, options, deps, 'status');
      if (!checked) return reply;
      const { params } = checked;
      const update = parseTwilioStatus(params);
      await recordStatus(deps, update);
      deps.auditLog.write({
        ...logEntry(request, params, 'status', 200, started),
        providerMessageId: update.providerMessageId,
      });
      return twiml(reply);
    });

    // A failure on these routes is also written to the audit log, with the status we answered.
    scope.addHook('onError', async (request, _reply, error) => {
      const kind = (request as { webhookKind?: 'inbound' | 'status' }).webhookKind;
      if (!kind || !isAppError(error) || error.kind === 'database_unavailable') return;
      const params =
        typeof request.body === 'object' && request.body !== null ? (request.body as FormParams) : {};
      deps.auditLog.write({
        ...logEntry(request, params, kind, HTTP_STATUS[error.kind], 0),
        error: error.message,
      });
    });
    done();
  });
}

/**
 * Verify the request is Twilio's, signed over the URL it called and every parameter; else 403, or 429 (then
 * undefined: the answer is sent) once its address is over the per-IP limit. The auth token is that of our number
 * in the request (an inbound message's To, a status callback's From) when the number has its own (another Twilio
 * account), else the environment's. `number` is that number, null when it is none of ours.
 */
async function checkedParams(
  request: FastifyRequest,
  reply: FastifyReply,
  options: TwilioWebhookOptions,
  deps: Deps,
  kind: 'inbound' | 'status',
): Promise<{ params: FormParams; number: BusinessNumber | null } | undefined> {
  (request as { webhookKind?: string }).webhookKind = kind;
  // Whatever proves nothing counts against the sender's address, and past the limit is answered 429.
  const overLimit = () => options.ipRateLimit?.refused(request, reply) === true;
  // Not a fault of this server (the zero-setup mode runs without Twilio): for whoever posts here, there is
  // no such endpoint, and a stray request must not raise a CRITICAL configuration alert.
  if (!options.twilio) {
    if (overLimit()) return undefined;
    throw new AppError(
      'not_found',
      'the Twilio channel is not configured on this server (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER)',
    );
  }
  if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
    if (overLimit()) return undefined;
    throw new AppError('invalid_input', 'expected an application/x-www-form-urlencoded body');
  }
  const params = request.body as FormParams;
  const ours = kind === 'inbound' ? params.To : params.From;
  const number = typeof ours === 'string' ? await deps.numbers.find('twilio', ours) : null;
  // Counted: without a signature nothing proves the request is Twilio's.
  if (options.skipSignature) return overLimit() ? undefined : { params, number };
  const url = publicRequestUrl({
    publicBaseUrl: options.publicBaseUrl,
    trustProxy: options.trustProxy,
    protocol: request.protocol,
    host: request.host,
    headers: request.headers,
    originalUrl: request.url,
  });
  const signature = request.headers['x-twilio-signature'];
  const valid =
    typeof signature === 'string' &&
    verifyTwilioSignature({
      authToken: number?.credentials.authToken ?? options.twilio.authToken,
      url,
      params,
      signature,
    });
  if (!valid) {
    // Over the limit, the guard's one line per address and window replaces one line per forged request.
    if (overLimit()) return undefined;
    // The only line for a refused signature (the error handler does not log bad_signature again): the URL is
    // the one the signature was checked against, the usual culprit when a proxy or PUBLIC_BASE_URL is wrong.
    deps.log.warn(
      {
        kind: 'bad_signature',
        ip: request.ip,
        url,
        hasSignature: typeof signature === 'string',
        requestId: request.id,
      },
      'webhook signature rejected: invalid Twilio signature',
    );
    throw new AppError('bad_signature', 'invalid Twilio signature');
  }
  options.ipRateLimit?.trust(request);
  return { params, number };
}

function logEntry(
  request: FastifyRequest,
  params: FormParams,
  kind: 'inbound' | 'status',
  responseStatus: number,
  started: number,
): WebhookLogInput {
  return {
    channel: 'twilio',
    kind,
    method: request.method,
    path: request.url,
    headers: headersForLog(request.headers),
    body: { ...params },
    responseStatus,
    processingTimeMs: started > 0 ? performance.now() - started : 0,
  };
}

function twiml(reply: FastifyReply): FastifyReply {
  return reply.status(200).type('text/xml').send(EMPTY_TWIML);
}
