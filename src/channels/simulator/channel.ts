/**
 * The local channel: instead of a phone network, an in-memory outbox per user address and a stream of events
 * that the simulator page listens to. The pipeline cannot tell it from Twilio.
 *
 * It lives in one process: the worker that sends and the web server that streams to the page must share this
 * object, so the simulator is for `npm start` (all roles in one process), never for a split web/worker
 * deployment, where the worker's sends would never reach the page.
 */
import { randomBytes } from 'node:crypto';
import { deliveryRank } from '../../domain/delivery.js';
import type { DeliveryStatus } from '../../domain/types.js';
import type { OutboundContent } from '../../domain/content.js';
import type { Channel, OutboundMessage, SendResult } from '../../ports.js';
import type { MediaStore } from '../../media/store.js';
import { fetchSimulatorMedia } from './media.js';

/** Like Twilio's WhatsApp limit, so long replies are split here exactly as they would be in production. */
export const SIMULATOR_MAX_BODY_LENGTH = 1600;
/** Our address as the simulated user sees it. */
export const SIMULATOR_BUSINESS_ADDRESS = 'whatsapp:simulator';
/** A local tool, not an archive: the oldest entries go first when these are exceeded. */
const MAX_MESSAGES_PER_ADDRESS = 500;
const MAX_ADDRESSES = 1000;
/** Our clock and the stored sendingStartedAt may differ by a few milliseconds (database clock). */
const CLOCK_SLACK_MS = 2000;

export interface SimulatedMessage {
  providerMessageId: string;
  to: string;
  from: string;
  body: string;
  /** What was sent when it is not plain text (media, a template, a reaction). */
  content?: OutboundContent;
  sentAt: Date;
  status: DeliveryStatus;
}

export type SimulatorEvent =
  | { type: 'message'; message: SimulatedMessage }
  | { type: 'status'; to: string; providerMessageId: string; status: DeliveryStatus };

export type SimulatorListener = (event: SimulatorEvent) => void;

/** Listen to every address. */
export const ALL_ADDRESSES = '*';

export interface SimulatorChannel extends Channel {
  readonly name: 'simulator';
  /** What the bot sent to `to`, oldest first (copies). */
  sent(to: string): SimulatedMessage[];
  /** Events for one address, or for all with ALL_ADDRESSES. Returns the function that unsubscribes. */
  subscribe(to: string, listener: SimulatorListener): () => void;
  /**
   * The simulated phone reports a delivery state. States only move forward (a late `delivered` after `read`
   * changes nothing); an event is emitted when the state changed. False if the message is not in the outbox.
   */
  markStatus(providerMessageId: string, status: DeliveryStatus): boolean;
}

/** `media`: where the page's uploads are kept; the worker reads them back through fetchMedia, as from Twilio. */
export function createSimulatorChannel(options: { media?: MediaStore } = {}): SimulatorChannel {
  const { media } = options;
  const outbox = new Map<string, SimulatedMessage[]>();
  const byId = new Map<string, SimulatedMessage>();
  const listeners = new Map<string, Set<SimulatorListener>>();

  function emit(to: string, event: SimulatorEvent): void {
    for (const key of [to, ALL_ADDRESSES]) {
      for (const listener of listeners.get(key) ?? []) {
        // A listener that fails (a page that went away mid-write) must not fail the send.
        try {
          listener(structuredClone(event));
        } catch {
          /* the listener's own problem */
        }
      }
    }
  }

  function store(message: SimulatedMessage): void {
    let thread = outbox.get(message.to);
    if (!thread) {
      if (outbox.size >= MAX_ADDRESSES) forgetAddress(outbox.keys().next().value);
      thread = [];
      outbox.set(message.to, thread);
    }
    thread.push(message);
    byId.set(message.providerMessageId, message);
    while (thread.length > MAX_MESSAGES_PER_ADDRESS) {
      const dropped = thread.shift();
      if (dropped) byId.delete(dropped.providerMessageId);
    }
  }

  function forgetAddress(address: string | undefined): void {
    if (address === undefined) return;
    for (const message of outbox.get(address) ?? []) byId.delete(message.providerMessageId);
    outbox.delete(address);
  }

  function send(message: OutboundMessage): Promise<SendResult> {
    const sent: SimulatedMessage = {
      providerMessageId: `SIM${randomBytes(16).toString('hex')}`,
      to: message.to,
      from: message.from ?? SIMULATOR_BUSINESS_ADDRESS,
      body: message.body,
      ...(message.content && message.content.type !== 'text' ? { content: message.content } : {}),
      sentAt: new Date(),
      status: 'sent',
    };
    store(sent);
    emit(sent.to, { type: 'message', message: { ...sent } });
    return Promise.resolve({ providerMessageId: sent.providerMessageId, status: sent.status });
  }

  function findSent(query: {
    to: string;
    from?: string;
    body: string;
    sentAfter: Date;
  }): Promise<SendResult | null> {
    const since = query.sentAfter.getTime() - CLOCK_SLACK_MS;
    const found = (outbox.get(query.to) ?? []).findLast(
      (message) =>
        message.body === query.body &&
        message.sentAt.getTime() >= since &&
        (query.from === undefined || message.from === query.from),
    );
    return Promise.resolve(
      found ? { providerMessageId: found.providerMessageId, status: found.status } : null,
    );
  }

  return {
    name: 'simulator',
    maxBodyLength: SIMULATOR_MAX_BODY_LENGTH,
    // A local page can show anything the real channels send.
    capabilities: { media: true, templates: true, reactions: true },
    senders: [SIMULATOR_BUSINESS_ADDRESS],
    send,
    findSent,
    ...(media ? { fetchMedia: (item, _business, limits) => fetchSimulatorMedia(media, item, limits) } : {}),
    sent: (to) => (outbox.get(to) ?? []).map((message) => ({ ...message })),
    subscribe(to, listener) {
      let set = listeners.get(to);
      if (!set) {
        set = new Set();
        listeners.set(to, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(to) === set) listeners.delete(to);
      };
    },
    markStatus(providerMessageId, status) {
      const message = byId.get(providerMessageId);
      if (!message) return false;
      if (deliveryRank(status) > deliveryRank(message.status)) {
        message.status = status;
        emit(message.to, { type: 'status', to: message.to, providerMessageId, status });
      }
      return true;
    },
  };
}
