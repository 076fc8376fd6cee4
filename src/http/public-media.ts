/**
 * GET /media/<message id>/<index>?expires=…&signature=…: a file of ours that a provider fetches (a voice answer's
 * MediaUrl for Twilio, its `link` for Meta), without a login, behind the signature of security/media-url.ts.
 * 403 for a wrong or expired signature, 404 for a key no message records.
 */
import type { FastifyInstance } from 'fastify';
import { findStoredMedia } from '../db/stored-media.js';
import type { Db } from '../db/connect.js';
import { AppError } from '../domain/errors.js';
import type { MediaStore } from '../media/store.js';
import { checkMediaSignature } from '../security/media-url.js';
import { sendStoredMedia } from './stored-media.js';

export function registerPublicMedia(
  app: FastifyInstance,
  deps: { db: Db; media: MediaStore },
  signingKey: Buffer,
): void {
  app.get<{ Params: { messageId: string; index: string }; Querystring: Record<string, unknown> }>(
    '/media/:messageId/:index',
    async (request, reply) => {
      const key = `${request.params.messageId}/${request.params.index}`;
      const check = checkMediaSignature(
        signingKey,
        key,
        request.query.expires,
        request.query.signature,
        Math.floor(Date.now() / 1000),
      );
      if (check !== 'ok')
        throw new AppError(
          'bad_signature',
          check === 'expired' ? 'this media link has expired' : 'this media link is not signed by us',
        );
      const file = await findStoredMedia(deps.db, key);
      const bytes = file ? await deps.media.get(file.key) : null;
      if (!file || !bytes) throw new AppError('not_found', 'no stored file at this address');
      return sendStoredMedia(reply, file, bytes);
    },
  );
}
