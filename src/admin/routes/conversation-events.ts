/**
 * GET /admin/conversations/:id/events: the live thread as server-sent events, behind the session like every
 * page. Each `message` event is one message's rendered HTML (escaped by the html template on the server) with its
 * id and version; admin.js appends it, or replaces the message it updates. Heartbeats keep proxies from closing a
 * quiet stream; a stream ends after STREAM_MAX_MS so the browser reconnects and the session is checked again.
 */
import type { FastifyInstance } from 'fastify';
import { recentMessages } from '../../db/admin-queries.js';
import { getConversation } from '../../db/conversations.js';
import { AppError } from '../../domain/errors.js';
import { requireRole } from '../auth.js';
import { threadFeeds, type LiveMessage } from '../live/thread-feeds.js';
import { idParam } from '../params.js';
import { ADMIN_HEADERS, type AdminContext } from '../routes.js';
import { liveMessages } from '../views/conversation-thread.js';

/** How many of the newest messages each poll reads and compares. */
const LIVE_WINDOW = 30;
const HEARTBEAT_MS = 15_000;
const STREAM_MAX_MS = 10 * 60_000;
const RECONNECT_MS = 2000;

export function registerConversationEvents(scope: FastifyInstance, { deps, options }: AdminContext): void {
  const feeds = threadFeeds({
    load: async (id): Promise<LiveMessage[]> => liveMessages(await recentMessages(deps.db, id, LIVE_WINDOW)),
    intervalMs: options.livePollMs,
    log: deps.log,
  });
  const streams = new Set<() => void>();

  // Open streams never end by themselves: end them before the server waits for its connections to close.
  scope.addHook('preClose', (done) => {
    for (const end of [...streams]) end();
    feeds.close();
    done();
  });

  scope.get<{ Params: { id: string } }>('/conversations/:id/events', async (request, reply) => {
    requireRole(request, 'conversations.read');
    const id = idParam(request.params.id, 'conversation');
    if (!(await getConversation(deps.db, id)))
      throw new AppError('not_found', 'No conversation with this id.');
    reply.hijack();
    const response = reply.raw;
    // A hijacked reply skips the scope's onSend hook: the security headers are written here.
    response.writeHead(200, {
      ...ADMIN_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const write = (chunk: string) => {
      if (!response.writableEnded) response.write(chunk);
    };
    write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    const unsubscribe = feeds.subscribe(id, (changed) => {
      // JSON never contains a raw newline, so one data line per event is enough.
      for (const m of changed) write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
    });
    const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
    const expiry = setTimeout(() => end(), STREAM_MAX_MS);
    heartbeat.unref();
    expiry.unref();
    const end = () => {
      if (!streams.delete(end)) return;
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      response.end();
    };
    streams.add(end);
    request.raw.once('close', end);
    response.once('close', end);
  });
}
