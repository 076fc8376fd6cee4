/**
 * GET /admin/media/<message id>/<index>: a file the worker downloaded (or a voice answer we generated), for the
 * thread's <img>, <audio> and document links. Anyone who may read the conversation may read its files.
 */
import type { FastifyInstance } from 'fastify';
import { findStoredMedia } from '../../db/stored-media.js';
import { AppError } from '../../domain/errors.js';
import { sendStoredMedia } from '../../http/stored-media.js';
import { requireRole } from '../auth.js';
import type { AdminContext } from '../routes.js';

/** The address of a stored file in the admin (the key is `<message id>/<index>`). */
export function adminMediaUrl(key: string): string {
  return `/admin/media/${key}`;
}

export function registerMediaRoutes(scope: FastifyInstance, { deps }: AdminContext): void {
  scope.get<{ Params: { messageId: string; index: string } }>(
    '/media/:messageId/:index',
    async (request, reply) => {
      requireRole(request, 'conversations.read');
      const key = `${request.params.messageId}/${request.params.index}`;
      const file = await findStoredMedia(deps.db, key);
      // Recorded on a message, then read under the key checked there; a file gone since (erased) is a 404 too.
      const bytes = file ? await deps.media.get(file.key) : null;
      if (!file || !bytes) throw new AppError('not_found', 'No stored file at this address.');
      return sendStoredMedia(reply, file, bytes);
    },
  );
}
