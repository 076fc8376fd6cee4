/**
 * A conversation's recent turns as one sorted set (score = turn time, member = the turn as JSON). A turn id
 * always carries the same content, so re-appending a turn writes the same member and changes nothing. Each append
 * is one MULTI: add, trim to the newest maxTurns, refresh the idle TTL.
 */
import type { Redis } from 'ioredis';
import type { Turn } from '../../domain/types.js';
import type { ContextCache } from '../../ports.js';
import { redisKey } from './connect.js';

export function createRedisContextCache(
  redis: Redis,
  options: { prefix: string; maxTurns: number; ttlSeconds: number },
): ContextCache {
  const key = (conversationId: string): string => redisKey(options.prefix, 'context', conversationId);
  return {
    async get(conversationId) {
      const members = await redis.zrange(key(conversationId), 0, -1);
      return members.length === 0 ? null : members.map((member) => JSON.parse(member) as Turn);
    },
    async append(conversationId, turns) {
      const k = key(conversationId);
      const multi = redis.multi();
      if (turns.length > 0) multi.zadd(k, ...turns.flatMap((turn) => [turn.at, encode(turn)]));
      // Ranks 0 … -(maxTurns+1) are everything but the newest maxTurns.
      multi.zremrangebyrank(k, 0, -(options.maxTurns + 1));
      multi.expire(k, options.ttlSeconds);
      const results = await multi.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed?.[0]) throw failed[0];
    },
    async clear(conversationId) {
      await redis.del(key(conversationId));
    },
  };
}

/** Fixed field order, and only the Turn fields, so the same turn always encodes to the same member. */
function encode(turn: Turn): string {
  return JSON.stringify({ id: turn.id, role: turn.role, content: turn.content, at: turn.at });
}
