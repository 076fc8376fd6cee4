/**
 * The Meta WhatsApp Cloud API channel (outbound half): sends from any of the deployment's Meta numbers with that
 * number's token, marks messages read with the typing indicator, and finds a send lost in a crash again through
 * the status webhooks (see findSent).
 */
import type { GraphApiSettings } from '../../config/channels.js';
import { AppError, SEND_UNCONFIRMED } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import type {
  BusinessNumber,
  Channel,
  ChannelCapabilities,
  FetchedMedia,
  NumberDirectory,
  OutboundMessage,
  SendResult,
} from '../../ports.js';
import type { MediaItem } from '../../domain/content.js';
import { ALLOWED_MEDIA_TYPES, MediaRefused } from '../../media/fetch-twilio-media.js';
import { createGraphClient } from './client.js';
import { downloadMetaMedia } from './media.js';
import { messagePayload } from './payload.js';

/** Meta's limit for one text message body. */
export const META_MAX_BODY_LENGTH = 4096;

const META_CAPABILITIES: ChannelCapabilities = { media: true, templates: true, reactions: true };

/**
 * How long after a send began a missing status still means "wait": Meta's `sent` webhook, which names the part,
 * comes within seconds; three minutes covers a slow webhook and its first redelivery.
 */
export const DEFAULT_CONFIRM_GRACE_MS = 3 * 60_000;
/** While waiting for that webhook, look again this often. */
const RECHECK_MS = 15_000;
/** A read receipt must not hold up an answer: short, and its failure is only logged. */
const ACKNOWLEDGE_TIMEOUT_MS = 5000;

export interface MetaChannelOptions {
  graph: GraphApiSettings;
  /** Every Meta number with its token: the environment's default first, then `business_numbers` rows. */
  numbers: NumberDirectory;
  /**
   * The provider id stored for our delivery part, and its status: written when the send's answer was stored, or
   * by a status webhook carrying the part's id (biz_opaque_callback_data) for a part that had none.
   */
  sentPart: (partId: string) => Promise<SendResult | null>;
  confirmGraceMs?: number;
  /** Deadline of each send (GRAPH_TIMEOUT_MS by default). */
  requestTimeoutMs?: number;
  log?: Logger;
  /** Told of every send Meta accepted (the status-webhook watch: observability/meta-status-watch.ts). */
  onSent?: (wamid: string) => void;
}

/** What the health check reports: this process's knowledge, no call to Meta. */
export interface MetaChannelState {
  lastSentAt: Date | null;
  lastError: { at: Date; kind: string; code: string | null; message: string } | null;
}

export interface MetaChannel extends Channel {
  acknowledge(message: { providerMessageId: string; from?: string }): Promise<void>;
  state(): MetaChannelState;
  /** Re-read the directory's Meta numbers into `senders` now. */
  refreshSenders(): Promise<readonly string[]>;
}

export function createMetaChannel(options: MetaChannelOptions): MetaChannel {
  const client = createGraphClient(options.graph, options.requestTimeoutMs);
  const graceMs = options.confirmGraceMs ?? DEFAULT_CONFIRM_GRACE_MS;
  const log = options.log;
  const state: MetaChannelState = { lastSentAt: null, lastError: null };
  let senders: readonly string[] = [];
  let refreshing: Promise<readonly string[]> | null = null;

  function refreshSenders(): Promise<readonly string[]> {
    refreshing ??= options.numbers
      .list('meta')
      .then((numbers) => (senders = numbers.map((n) => n.address)))
      .catch((error: unknown) => {
        log?.warn({ err: error }, 'Meta numbers could not be listed; keeping the last known');
        return senders;
      })
      .finally(() => (refreshing = null));
    return refreshing;
  }

  /** `from`'s number, or the default (the environment's, else the first stored) when the message names none. */
  async function numberFor(from: string | undefined): Promise<BusinessNumber & { token: string }> {
    const number = from
      ? await options.numbers.find('meta', from)
      : ((await options.numbers.list('meta'))[0] ?? null);
    if (!number)
      throw new AppError(
        'config',
        from
          ? `no active Meta number ${from}: it was removed or deactivated`
          : 'no Meta number is configured',
        { notSent: true },
      );
    const token = number.credentials.accessToken;
    if (!token)
      throw new AppError('config', `Meta number ${number.address} has no access token`, { notSent: true });
    return { ...number, token };
  }

  async function send(message: OutboundMessage): Promise<SendResult> {
    try {
      const number = await numberFor(message.from);
      const answer = await client.call({
        method: 'POST',
        path: `/${number.address}/messages`,
        token: number.token,
        body: messagePayload(message),
        action: 'send',
      });
      const id = wamidOf(answer);
      if (!id) throw new AppError('channel_unavailable', 'Meta answered the send without a message id');
      state.lastSentAt = new Date();
      options.onSent?.(id);
      // `accepted`, not `sent`: Meta's answer means it took the request; its `sent` webhook (the message left
      // for WhatsApp) then ranks above it (domain/delivery.ts), as Twilio's `queued` is followed by `sent`.
      return { providerMessageId: id, status: 'accepted' };
    } catch (error) {
      const mapped =
        error instanceof AppError
          ? error
          : new AppError('internal', 'Meta send failed unexpectedly', { cause: error });
      state.lastError = {
        at: new Date(),
        kind: mapped.kind,
        code: mapped.code ?? null,
        message: mapped.message,
      };
      log?.warn({ kind: mapped.kind, code: mapped.code, retryable: mapped.retryable }, mapped.message);
      throw mapped;
    }
  }

  /**
   * Meta has no "find the message I sent" query, so a send whose answer was lost (a crash, a timeout) is found
   * through our own records: every send carries its part's id as biz_opaque_callback_data, Meta echoes it in the
   * status webhooks (`sent` within seconds), and the webhook stores the wamid on a part that has none.
   * - the part has a provider id: it was sent; that is the answer.
   * - none yet, within the grace period after the send began: unknown, so SEND_UNCONFIRMED (retryable) makes the
   *   sender wait and ask again, never send.
   * - none after the grace period: Meta never confirmed anything, so it most likely never took the message: null,
   *   and it is sent again. A rare duplicate (a status webhook lost for minutes) is accepted over a lost reply.
   */
  async function findSent(query: Parameters<Channel['findSent']>[0]): Promise<SendResult | null> {
    if (query.partId === undefined) {
      log?.warn('Meta findSent without a part id cannot tell whether Meta took the message; sending again');
      return null;
    }
    const found = await options.sentPart(query.partId);
    if (found) return found;
    const waitedMs = Date.now() - query.sentAfter.getTime();
    if (waitedMs < graceMs)
      throw new AppError(
        'channel_unavailable',
        `no Meta status has named part ${query.partId} yet; asking again shortly`,
        {
          code: SEND_UNCONFIRMED,
          retryAfterSeconds: Math.max(1, Math.ceil(Math.min(graceMs - waitedMs, RECHECK_MS) / 1000)),
        },
      );
    log?.warn(
      { partId: query.partId, waitedMs },
      'no Meta status named the part within the grace period; it is sent again',
    );
    return null;
  }

  /**
   * A media id of an inbound message, fetched with the token of the number it came to (Meta checks the media
   * belongs to it). Meta's own refusals become MediaRefused: over the size, a type we do not take, a download
   * URL off Meta's hosts, a media id Meta no longer knows (webhook media ids expire after 7 days).
   */
  async function fetchMedia(
    item: MediaItem,
    businessAddress: string,
    limits: { maxBytes: number; timeoutMs: number },
    signal?: AbortSignal,
  ): Promise<FetchedMedia> {
    const number = await numberFor(businessAddress);
    let downloaded;
    try {
      downloaded = await downloadMetaMedia({
        graph: options.graph,
        token: number.token,
        mediaId: item.reference,
        phoneNumberId: number.address,
        maxBytes: limits.maxBytes,
        timeoutMs: limits.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (!(error instanceof AppError) || signal?.aborted) throw error;
      if (error.kind === 'payload_too_large') throw new MediaRefused('too_large', error.message);
      if (!error.retryable && error.message.includes('unexpected host'))
        throw new MediaRefused('foreign_host', error.message);
      if (error.kind === 'channel_rejected') throw new MediaRefused('gone', error.message);
      throw error;
    }
    const contentType = (downloaded.mimeType.split(';')[0] ?? '').trim().toLowerCase();
    if (!ALLOWED_MEDIA_TYPES.includes(contentType))
      throw new MediaRefused('type_not_allowed', `media of type ${contentType} is not accepted`);
    return { bytes: downloaded.bytes, contentType };
  }

  async function acknowledge(message: { providerMessageId: string; from?: string }): Promise<void> {
    const number = await numberFor(message.from);
    await client.call({
      method: 'POST',
      path: `/${number.address}/messages`,
      token: number.token,
      body: {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: message.providerMessageId,
        typing_indicator: { type: 'text' },
      },
      action: 'mark read',
      timeoutMs: Math.min(ACKNOWLEDGE_TIMEOUT_MS, options.requestTimeoutMs ?? ACKNOWLEDGE_TIMEOUT_MS),
    });
  }

  void refreshSenders();
  return {
    name: 'meta',
    maxBodyLength: META_MAX_BODY_LENGTH,
    capabilities: META_CAPABILITIES,
    /**
     * The last known Meta numbers (the port's array stays synchronous for its callers). Each read also starts a
     * re-read of the directory, which itself re-reads the database at most once per refresh interval: a number
     * added with `chatbot number add` is seen within that interval and one use.
     */
    get senders() {
      void refreshSenders();
      return senders;
    },
    send,
    findSent,
    acknowledge,
    fetchMedia,
    state: () => ({ ...state }),
    refreshSenders,
  };
}

function wamidOf(answer: Record<string, unknown>): string | null {
  const messages = answer.messages;
  if (!Array.isArray(messages)) return null;
  const first: unknown = messages[0];
  if (typeof first !== 'object' || first === null) return null;
  const id = (first as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : null;
}
