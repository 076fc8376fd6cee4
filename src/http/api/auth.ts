/**
 * Bearer-token authentication of the API: `Authorization: Bearer wacb_…`, looked up by its hash. The request's
 * actor (the token, its role, the client's address) is what the use cases check and audit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateApiToken } from '../../db/api-tokens.js';
import type { Db } from '../../db/connect.js';
import type { Actor } from '../../domain/roles.js';
import { ApiProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token's actor, set by the API's auth hook; null outside /api/v1/. */
    apiActor: Actor | null;
  }
}

/** Every route of the scope needs a live token unless its config says `public: true`. */
export function registerBearerAuth(scope: FastifyInstance, db: Db): void {
  scope.decorateRequest('apiActor', null);
  scope.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean }).public === true) return;
    const token = bearerOf(request.headers.authorization);
    const apiToken = token === null ? null : await authenticateApiToken(db, token);
    if (!apiToken) {
      // Never the token itself: a refused token may be a real one pasted into the wrong place.
      request.log.warn(
        {
          ip: request.ip,
          path: request.url.split('?')[0],
          reason: token === null ? 'missing' : 'unknown or revoked',
        },
        'API request refused: no valid token',
      );
      throw new ApiProblem(
        401,
        'unauthorized',
        'a valid API token is required: Authorization: Bearer <token>',
      );
    }
    request.apiActor = {
      kind: 'token',
      id: apiToken.id,
      name: `token ${apiToken.name}`,
      role: apiToken.role,
      ip: request.ip,
    };
  });
}

/** The actor of a request that passed the auth hook. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.apiActor) throw new ApiProblem(401, 'unauthorized', 'a valid API token is required');
  return request.apiActor;
}

function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
