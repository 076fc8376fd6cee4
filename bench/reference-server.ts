/**
 * The REFERENCE the webhook is measured against: the least a correct Twilio webhook must do, on bare node:http.
 * Verify X-Twilio-Signature (the same computeTwilioSignature our server uses), one PostgreSQL insert through a
 * pg Pool, one Redis LPUSH through ioredis, answer empty TwiML. No framework, no validation, no audit log.
 *
 *   node --import tsx bench/reference-server.ts '<options as JSON>'   (prints "listening <url>" when ready)
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { computeTwilioSignature, type SignedParams } from '../src/channels/twilio/signature.js';

export interface ReferenceOptions {
  /** 0 for any free port. */
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** The Redis list every accepted message is pushed onto. */
  redisKey: string;
  authToken: string;
  /** Origin Twilio calls, e.g. http://127.0.0.1:8123; the signed URL is this plus the request path. */
  publicBaseUrl?: string;
  poolSize: number;
}

export interface ReferenceServer {
  url: string;
  close(): Promise<void>;
}

export const REFERENCE_TABLE = 'bench_reference_messages';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export async function startReferenceServer(options: ReferenceOptions): Promise<ReferenceServer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  await pool.query(`create table if not exists ${REFERENCE_TABLE} (
    id bigserial primary key,
    message_sid text not null,
    from_address text not null,
    body text not null,
    received_at timestamptz not null default now())`);
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  let base = options.publicBaseUrl;

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST') {
      response.writeHead(404).end();
      return;
    }
    const params: SignedParams = {};
    for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
      const existing = params[key];
      params[key] =
        existing === undefined ? value : [...(typeof existing === 'string' ? [existing] : existing), value];
    }
    const expected = Buffer.from(
      computeTwilioSignature(options.authToken, `${base ?? ''}${request.url ?? '/'}`, params),
    );
    const given = Buffer.from(String(request.headers['x-twilio-signature'] ?? ''));
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      response.writeHead(403).end();
      return;
    }
    const one = (key: string): string => {
      const value = params[key];
      return typeof value === 'string' ? value : (value?.[0] ?? '');
    };
    const inserted = await pool.query<{ id: string }>(
      `insert into ${REFERENCE_TABLE} (message_sid, from_address, body) values ($1, $2, $3) returning id`,
      [one('MessageSid'), one('From'), one('Body')],
    );
    await redis.lpush(options.redisKey, JSON.stringify({ id: inserted.rows[0]?.id, sid: one('MessageSid') }));
    response.writeHead(200, { 'content-type': 'text/xml' }).end(EMPTY_TWIML);
  };

  const server = http.createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(503);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base ??= url;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
      await pool.end();
    },
  };
}

// As a process: options in argv, "listening <url>" out, stop on SIGTERM.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = JSON.parse(process.argv[2] ?? '{}') as ReferenceOptions;
  const server = await startReferenceServer(options);
  process.stdout.write(`listening ${server.url}\n`);
  process.once('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}
