/**
 * The simulated phone: Server-Sent Events carry what the bot sends to the page as it happens, and each message
 * is reported `delivered` shortly after it was sent, through the same status path as Twilio's callbacks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { displayOf } from '../../domain/display-content.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { recordStatus } from '../../pipeline/record-status.js';
import {
  ALL_ADDRESSES,
  type SimulatorChannel,
  type SimulatorEvent,
} from '../../channels/simulator/channel.js';
import { parseAddressQuery } from '../../channels/simulator/input.js';

/** A handset confirms delivery a moment after the network accepted the message. */
export const DELIVERED_AFTER_MS = 300;
/** Comment lines keep proxies and the browser from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** How soon the browser reconnects after the stream drops. */
const RECONNECT_MS = 2000;
const WHATSAPP_PREFIX = 'whatsapp:';

type Deps = Pick<PipelineDeps, 'db' | 'log' | 'queue' | 'channelFor' | 'unqueued' | 'settings' | 'report'>;

/** `+E164` for the page, from the channel address `whatsapp:+E164`. */
export function pageAddress(channelAddress: string): string {
  return channelAddress.startsWith(WHATSAPP_PREFIX)
    ? channelAddress.slice(WHATSAPP_PREFIX.length)
    : channelAddress;
}

/** The event as the page reads it: `event: <type>` and one JSON line of data. */
export function formatEvent(event: SimulatorEvent): string {
  const data =
    event.type === 'message'
      ? {
          address: pageAddress(event.message.to),
          providerMessageId: event.message.providerMessageId,
          body: event.message.body,
          sentAt: event.message.sentAt.toISOString(),
          status: event.message.status,
          // A file (a voice answer): what the page shows of it, as for a stored part.
          ...(event.message.content?.type === 'media'
            ? { display: displayOf(event.message.content, {}) }
            : {}),
        }
      : { address: pageAddress(event.to), providerMessageId: event.providerMessageId, status: event.status };
  // JSON never contains a raw newline, so one data line is always enough.
  return `event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** GET /simulator/api/events[?address=+E164]: one conversation's events, or every simulator conversation's. */
export function registerEvents(app: FastifyInstance, deps: Deps, channel: SimulatorChannel): void {
  const streams = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const stopDelivering = channel.subscribe(ALL_ADDRESSES, (event) => {
    if (event.type !== 'message') return;
    const { providerMessageId } = event.message;
    const timer = setTimeout(() => {
      timers.delete(timer);
      recordStatus(deps, { providerMessageId, status: 'delivered', errorCode: null })
        .then(() => {
          channel.markStatus(providerMessageId, 'delivered');
        })
        .catch((error: unknown) => {
          deps.log.warn({ err: error, providerMessageId }, 'could not record simulated delivery');
        });
    }, DELIVERED_AFTER_MS);
    timer.unref();
    timers.add(timer);
  });

  // Open streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', (done) => {
    stopDelivering();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const end of [...streams]) end();
    done();
  });

  app.get<{ Querystring: { address?: string } }>('/simulator/api/events', (request, reply) => {
    const raw = request.query.address;
    const key =
      raw === undefined || raw === '' ? ALL_ADDRESSES : `${WHATSAPP_PREFIX}${parseAddressQuery(raw)}`;
    stream(
      request,
      reply,
      (write) =>
        channel.subscribe(key, (event) => {
          write(formatEvent(event));
        }),
      streams,
    );
  });
}

function stream(
  request: FastifyRequest,
  reply: FastifyReply,
  start: (write: (chunk: string) => void) => () => void,
  streams: Set<() => void>,
): void {
  reply.hijack();
  const response = reply.raw;
  // A hijacked reply does not send the headers set on it (the security headers): carry them over.
  response.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string | string[]>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  const write = (chunk: string) => {
    if (!response.writableEnded) response.write(chunk);
  };
  write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
  const unsubscribe = start(write);
  const heartbeat = setInterval(() => {
    write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const end = () => {
    if (!streams.delete(end)) return;
    clearInterval(heartbeat);
    unsubscribe();
    response.end();
  };
  streams.add(end);
  request.raw.once('close', end);
  response.once('close', end);
}
