/**
 * Where Redis is, as one string, so every client of the process (commands, BullMQ's worker, validate-config)
 * is built from the same setting. Two forms:
 *   redis://[:password@]host:port[/db]   (or rediss:// for TLS): one server, passed to ioredis as is;
 *   redis+sentinel://[:password@]host1:26379,host2:26379/mastername[/db][?sentinelPassword=…]: ask the
 *   Sentinels which server is the primary, and again after a failover (ioredis does this itself once given
 *   `sentinels` and `name`). The password is the data servers'; `sentinelPassword` the Sentinels', if any.
 */
import type { RedisOptions } from 'ioredis';

export const SENTINEL_SCHEME = 'redis+sentinel:';

export interface SentinelAddress {
  sentinels: Array<{ host: string; port: number }>;
  name: string;
  password: string | undefined;
  sentinelPassword: string | undefined;
  db: number;
}

const SENTINEL_URL =
  /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/@]+)\/([^/?]+?)(?:\/(\d{1,2}))?\/?(?:\?sentinelPassword=([^&]*))?$/;

/** The parts of a redis+sentinel:// address, or a reason it is not one. */
export function parseSentinelUrl(url: string): SentinelAddress | { error: string } {
  const match = SENTINEL_URL.exec(url.trim());
  if (!match) {
    return {
      error:
        'expected redis+sentinel://[:password@]host:port[,host:port…]/mastername[/db][?sentinelPassword=…]',
    };
  }
  const [, auth, hostList = '', name = '', db, sentinelPassword] = match;
  try {
    return sentinelParts(auth, hostList, name, db, sentinelPassword);
  } catch (error) {
    // decodeURIComponent on a stray % (a password with % must be written %25)
    return { error: `${(error as Error).message}: write a % in a password or name as %25` };
  }
}

function sentinelParts(
  auth: string | undefined,
  hostList: string,
  name: string,
  db: string | undefined,
  sentinelPassword: string | undefined,
): SentinelAddress | { error: string } {
  const sentinels: SentinelAddress['sentinels'] = [];
  for (const entry of hostList.split(',')) {
    // host, host:port, or [ipv6]:port
    const hostPort = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    const host = hostPort?.[1] ?? hostPort?.[2];
    const port = Number(hostPort?.[3] ?? 26379);
    if (!host || port < 1 || port > 65535) return { error: `"${entry}" is not host:port` };
    sentinels.push({ host, port });
  }
  const password = auth === undefined ? undefined : decodeURIComponent(auth.replace(/^[^:]*:/, ''));
  return {
    sentinels,
    name: decodeURIComponent(name),
    password: password === '' ? undefined : password,
    sentinelPassword: sentinelPassword ? decodeURIComponent(sentinelPassword) : undefined,
    db: Number(db ?? 0),
  };
}

/**
 * A redis+sentinel:// address from its parts (REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_PASSWORD,
 * REDIS_SENTINEL_PASSWORD, REDIS_DB).
 */
export function sentinelUrl(parts: {
  sentinels: string;
  name: string;
  password: string | undefined;
  sentinelPassword: string | undefined;
  db: number;
}): string {
  const auth = parts.password ? `:${encodeURIComponent(parts.password)}@` : '';
  const hosts = parts.sentinels
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(',');
  const query = parts.sentinelPassword
    ? `?sentinelPassword=${encodeURIComponent(parts.sentinelPassword)}`
    : '';
  return `redis+sentinel://${auth}${hosts}/${encodeURIComponent(parts.name)}/${parts.db}${query}`;
}

/** ioredis's first constructor argument(s) for an address: the URL, or Sentinel options. */
export function connectionOptions(url: string): { url: string } | { options: RedisOptions } {
  if (!url.startsWith(SENTINEL_SCHEME)) return { url };
  const parsed = parseSentinelUrl(url);
  if ('error' in parsed) throw new Error(`Redis address: ${parsed.error}`);
  return {
    options: {
      sentinels: parsed.sentinels,
      name: parsed.name,
      db: parsed.db,
      ...(parsed.password ? { password: parsed.password } : {}),
      ...(parsed.sentinelPassword ? { sentinelPassword: parsed.sentinelPassword } : {}),
    },
  };
}
