/**
 * Where state lives: PostgreSQL (DATABASE_URL or DB_* parts) or embedded PGlite; Redis (a URL, Sentinels or
 * REDIS_* parts) or the in-process adapters.
 */
import type { Config } from './load.js';
import type { Env } from './schema.js';
import { parseSentinelUrl, sentinelUrl, SENTINEL_SCHEME } from '../infra/redis/address.js';

export function databaseSettings(env: Env): Config['database'] {
  if (env.DATABASE_URL) return { kind: 'postgres', url: env.DATABASE_URL, poolSize: env.DB_POOL_SIZE };
  if (env.DB_HOST || env.DB_NAME || env.DB_USER) {
    const user = encodeURIComponent(env.DB_USER ?? 'postgres');
    const password = env.DB_PASSWORD ? `:${encodeURIComponent(env.DB_PASSWORD)}` : '';
    const host = env.DB_HOST ?? 'localhost';
    const name = encodeURIComponent(env.DB_NAME ?? 'whatsapp_chatbot');
    return {
      kind: 'postgres',
      url: `postgresql://${user}${password}@${host}:${env.DB_PORT}/${name}`,
      poolSize: env.DB_POOL_SIZE,
    };
  }
  return { kind: 'pglite', dataDir: env.PGLITE_DATA_DIR };
}

export function redisSettings(env: Env, problems: string[]): Config['redis'] {
  if (env.REDIS_URL?.startsWith(SENTINEL_SCHEME)) {
    const parsed = parseSentinelUrl(env.REDIS_URL);
    if ('error' in parsed) problems.push(`REDIS_URL: ${parsed.error}`);
  }
  if (env.REDIS_URL) return { kind: 'redis', url: env.REDIS_URL };
  if (env.REDIS_SENTINELS) {
    const url = sentinelUrl({
      sentinels: env.REDIS_SENTINELS,
      name: env.REDIS_SENTINEL_NAME,
      password: env.REDIS_PASSWORD,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      db: env.REDIS_DB,
    });
    const parsed = parseSentinelUrl(url);
    if ('error' in parsed)
      problems.push(
        `REDIS_SENTINELS: ${parsed.error.replace(/^expected.*/, 'expected host:port,host:port')}`,
      );
    return { kind: 'redis', url };
  }
  if (env.REDIS_HOST) {
    const password = env.REDIS_PASSWORD ? `:${encodeURIComponent(env.REDIS_PASSWORD)}@` : '';
    return { kind: 'redis', url: `redis://${password}${env.REDIS_HOST}:${env.REDIS_PORT}/${env.REDIS_DB}` };
  }
  return { kind: 'memory' };
}
