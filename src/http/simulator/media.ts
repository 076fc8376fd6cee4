/**
 * The simulator's files (issue #15). POST /simulator/api/media takes a photo, a document, an audio file or a
 * voice note recorded on the page (the file as the body, with its own Content-Type), keeps it in the media store
 * under a fresh key of its own and accepts an inbound message whose media item names that key; the worker's
 * media stage fetches it back through the simulator channel, exactly as it fetches a Twilio MediaUrl.
 * GET /simulator/api/media/<message id>/<index> serves what the worker stored (or a voice answer), for the page's
 * pictures and players: only files of simulator conversations.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SIMULATOR_BUSINESS_ADDRESS } from '../../channels/simulator/channel.js';
import { parseUpload } from '../../channels/simulator/input.js';
import { newUploadKey, SIMULATOR_UPLOAD_TYPES, uploadReference } from '../../channels/simulator/media.js';
import { findStoredMedia } from '../../db/stored-media.js';
import type { Content } from '../../domain/content.js';
import { AppError } from '../../domain/errors.js';
import { renderForModel } from '../../domain/render-content.js';
import type { InboundMessage } from '../../domain/types.js';
import { acceptInbound } from '../../pipeline/accept-inbound.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { sendStoredMedia } from '../stored-media.js';

/** What the upload and the file route use (acceptInbound's own needs included), no more. */
type Deps = Pick<PipelineDeps, 'db' | 'queue' | 'log' | 'settings' | 'unqueued' | 'auditLog' | 'media'>;

/** The page's address for a stored file (the key is `<message id>/<index>`). */
export const simulatorMediaPath = (key: string) => `/simulator/api/media/${key}`;

/** `scope` is the simulator API's scope, so a refused upload is written to the webhook log like a refused message. */
export function registerSimulatorMedia(scope: FastifyInstance, deps: Deps): void {
  const maxBytes = deps.settings.mediaMaxBytes;

  void scope.register((uploads, _options, done) => {
    // Raw bytes of any type; which types are taken is the route's decision, with a sentence, not a bare 415.
    uploads.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, next) => {
      next(null, body);
    });
    // Refused before the body is read, with the limit named (the parser's own 413 would not say which).
    uploads.addHook('onRequest', (request, _reply, next) => {
      (request as { simulatorKind?: string }).simulatorKind = 'inbound';
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared <= maxBytes) return next();
      next(
        new AppError(
          'payload_too_large',
          `the file is ${declared} bytes; at most ${maxBytes} (MEDIA_MAX_BYTES)`,
        ),
      );
    });

    uploads.post<{ Querystring: Record<string, unknown> }>('/simulator/api/media', async (request, reply) => {
      const started = performance.now();
      (request as { simulatorKind?: string }).simulatorKind = 'inbound';
      const upload = parseUpload(request.query, request.headers['content-type'], request.body, {
        maxBytes,
        allowedTypes: SIMULATOR_UPLOAD_TYPES,
      });
      const key = newUploadKey();
      await deps.media.put(key, upload.bytes, upload.contentType);
      const content: Content = {
        type: 'media',
        items: [
          {
            kind: upload.kind,
            contentType: upload.contentType,
            reference: uploadReference(key),
            sizeBytes: upload.bytes.length,
            ...(upload.filename ? { filename: upload.filename } : {}),
          },
        ],
        ...(upload.caption ? { caption: upload.caption } : {}),
      };
      const message: InboundMessage = {
        channel: 'simulator',
        providerMessageId: `SIM${randomBytes(16).toString('hex')}`,
        from: `whatsapp:${upload.from}`,
        to: SIMULATOR_BUSINESS_ADDRESS,
        body: renderForModel(content, {}),
        content,
        context: {},
        profileName: upload.profileName,
        metadata: {},
      };
      const accepted = await acceptInbound(deps, message, request.id);
      deps.auditLog.write({
        channel: 'simulator',
        kind: 'inbound',
        method: request.method,
        path: request.url,
        headers: { 'content-type': upload.contentType },
        // The file itself is in the media store; the log keeps what it was.
        body: { kind: upload.kind, contentType: upload.contentType, sizeBytes: upload.bytes.length, key },
        responseStatus: 202,
        processingTimeMs: performance.now() - started,
        providerMessageId: message.providerMessageId,
      });
      request.log.info(
        { messageId: accepted.messageId, kind: upload.kind, sizeBytes: upload.bytes.length },
        'simulator file accepted',
      );
      return reply.status(202).send({
        messageId: accepted.messageId,
        conversationId: accepted.conversationId,
        providerMessageId: message.providerMessageId,
      });
    });
    done();
  });

  scope.get<{ Params: { messageId: string; index: string } }>(
    '/simulator/api/media/:messageId/:index',
    async (request, reply) => {
      const file = await findStoredMedia(deps.db, `${request.params.messageId}/${request.params.index}`);
      // Only the simulator's own conversations: the page is open to anyone who reaches it.
      const bytes = file?.channel === 'simulator' ? await deps.media.get(file.key) : null;
      if (!file || !bytes) throw new AppError('not_found', 'no stored file at this address');
      return sendStoredMedia(reply, file, bytes);
    },
  );
}
