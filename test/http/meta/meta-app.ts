/**
 * The Meta webhook route on the real HTTP stack (server, error handler) with the real pipeline pieces behind it:
 * PostgreSQL, the inbound batcher, the webhook log writer, the in-process queue, the number directory reading
 * `business_numbers`. Only Meta's sending side is a stand-in (that channel is not this route's business): it
 * records what the window fallback would send.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createNumberDirectory } from '../../../src/channels/number-directory.js';
import type { MetaSettings } from '../../../src/config/channels.js';
import type { Db } from '../../../src/db/connect.js';
import { webhookLogWriter } from '../../../src/db/webhook-log-writer.js';
import { registerIpRateLimit } from '../../../src/http/ip-rate-limit.js';
import { createServer } from '../../../src/http/server.js';
import { registerMetaWebhook } from '../../../src/http/meta-webhook.js';
import { createMemoryQueue } from '../../../src/infra/memory/queue.js';
import type { PipelineSettings } from '../../../src/pipeline/deps.js';
import { createUnqueuedRetry } from '../../../src/pipeline/unqueued-retry.js';
import type { Channel, OutboundMessage } from '../../../src/ports.js';
import {
  createFieldCipher,
  generateFieldKey,
  parseFieldKey,
} from '../../../src/security/field-encryption.js';
import { captureLog, type CapturedLog } from '../../errors/capture-log.js';
import {
  metaHeaders,
  metaJson,
  TEST_ACCESS_TOKEN,
  TEST_APP_SECRET,
  TEST_PHONE_NUMBER_ID,
  TEST_VERIFY_TOKEN,
} from '../../helpers/meta.js';
import { pipelineSettings } from '../../helpers/pipeline-settings.js';

export const META_PATH = '/api/whatsapp/meta/webhook/';
export const DEFAULT_META: MetaSettings = {
  phoneNumberId: TEST_PHONE_NUMBER_ID,
  accessToken: TEST_ACCESS_TOKEN,
  appSecret: TEST_APP_SECRET,
  verifyToken: TEST_VERIFY_TOKEN,
};
export const WINDOW_TEMPLATE = {
  type: 'template',
  templateId: 'reopen_conversation',
  language: 'en_US',
  variables: {},
} as const;

export const SETTINGS: PipelineSettings = pipelineSettings({
  windowTemplates: { meta: { ...WINDOW_TEMPLATE, variables: {} } },
});

export interface MetaApp {
  app: FastifyInstance;
  capture: CapturedLog;
  /** Parts handed to Meta's sending side (which does not send here). */
  sent: OutboundMessage[];
  /** POST `body` (an object, serialised as Meta does, or raw text) signed with the default app secret. */
  post(
    body: unknown,
    options?: { appSecret?: string; signature?: string | null },
  ): Promise<LightMyRequestResponse>;
  /** Wait until the webhook log rows written so far are stored. */
  flushLog(): Promise<void>;
  close(): Promise<void>;
}

export interface MetaAppOptions {
  db: Db;
  meta?: MetaSettings | null;
  /** Meta numbers stored as `business_numbers` rows (credentials encrypted, as the CLI stores them). */
  rows?: Array<{ address: string; appSecret: string; verifyToken: string }>;
  insertRow?: (address: string, credentials: string) => Promise<void>;
  /** Turn the per-IP flood guard on with this many requests per minute. */
  ipLimit?: number;
}

export async function startMetaApp(options: MetaAppOptions): Promise<MetaApp> {
  const capture = captureLog('debug');
  const cipher = createFieldCipher(parseFieldKey(generateFieldKey()));
  for (const row of options.rows ?? [])
    await options.insertRow?.(
      row.address,
      cipher.encrypt(
        JSON.stringify({ accessToken: 'EAArow', appSecret: row.appSecret, verifyToken: row.verifyToken }),
      ),
    );
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const auditLog = webhookLogWriter(options.db, { flushMs: 0 });
  const sent: OutboundMessage[] = [];
  const metaOutbound: Channel = {
    name: 'meta',
    maxBodyLength: 4096,
    capabilities: { media: true, templates: true, reactions: true },
    senders: [TEST_PHONE_NUMBER_ID],
    send: (message) => {
      sent.push(message);
      return Promise.reject(new Error('Meta sending is not part of these tests'));
    },
    findSent: () => Promise.resolve(null),
  };
  const meta = options.meta === undefined ? DEFAULT_META : options.meta;
  const numbers = createNumberDirectory({
    db: options.db,
    twilio: null,
    meta,
    decrypt: cipher.decrypt,
    refreshMs: 60_000,
    log: capture.log,
  });
  const app = createServer({ log: capture.log, bodyLimitBytes: 64 * 1024, trustProxy: false });
  const ipRateLimit =
    options.ipLimit === undefined
      ? undefined
      : registerIpRateLimit(app, { max: options.ipLimit, windowSeconds: 60, log: capture.log });
  registerMetaWebhook(
    app,
    {
      db: options.db,
      queue,
      unqueued: createUnqueuedRetry({ queue, log: capture.log }),
      log: capture.log,
      settings: SETTINGS,
      auditLog,
      channelFor: (name) => (name === 'meta' ? metaOutbound : undefined),
    },
    { numbers, meta, ...(ipRateLimit ? { ipRateLimit } : {}) },
  );
  await app.ready();
  return {
    app,
    capture,
    sent,
    post: (body, postOptions = {}) => {
      const raw = typeof body === 'string' ? body : metaJson(body);
      return app.inject({
        method: 'POST',
        url: META_PATH,
        headers: metaHeaders(raw, postOptions),
        payload: raw,
      });
    },
    flushLog: () => auditLog.flush(),
    close: async () => {
      await app.close();
      await auditLog.close();
      await queue.close();
    },
  };
}
