/**
 * Channel over the official twilio SDK: one client per Twilio account per process (the environment's, and one
 * for each business number that carries its own account SID and auth token), errors classified in errors.ts.
 */
import type { TwilioSettings } from '../../config/load.js';
import type { Logger } from '../../log.js';
import { AppError } from '../../domain/errors.js';
import type { MediaItem } from '../../domain/content.js';
import { fetchTwilioMedia, MediaRefused } from '../../media/fetch-twilio-media.js';
import type {
  Channel,
  ChannelCapabilities,
  FetchedMedia,
  NumberDirectory,
  OutboundMessage,
  SendResult,
} from '../../ports.js';
import { createTwilioClient, type TwilioClient } from './client.js';
import { mapTwilioError } from './errors.js';
import { toDeliveryStatus } from './inbound.js';

/** Twilio's limit for one WhatsApp message body (error 21617 above it). */
export const TWILIO_MAX_BODY_LENGTH = 1600;
/** Twilio's date_created has whole seconds; our clock and theirs also drift a little. */
const CLOCK_SLACK_MS = 2000;
/** findSent looks at this many of the newest messages to the user; it runs minutes after a crash, not days. */
const FIND_SENT_LIMIT = 50;

/** Where Twilio serves MediaUrl{N} when TWILIO_API_BASE_URL does not name another host. */
const TWILIO_API = 'https://api.twilio.com';

/** Twilio sends media by URL and templates by Content SID; WhatsApp reactions are not in its Messages API. */
const TWILIO_CAPABILITIES: ChannelCapabilities = { media: true, templates: true, reactions: false };

/**
 * The Messages API parameters for one outbound message: text as Body; media as MediaUrl with the caption as
 * Body; a template as ContentSid + ContentVariables (JSON) and no Body, which Twilio refuses next to a template
 * (63016 since 2025-04).
 */
function twilioMessageParams(message: OutboundMessage): {
  body?: string;
  mediaUrl?: string[];
  contentSid?: string;
  contentVariables?: string;
} {
  const content = message.content ?? { type: 'text', text: message.body };
  switch (content.type) {
    case 'text':
      return { body: content.text };
    case 'media':
      return {
        mediaUrl: content.items.map((item) => item.reference),
        ...(content.caption ? { body: content.caption } : {}),
      };
    case 'template':
      return {
        contentSid: content.templateId,
        ...(Object.keys(content.variables).length > 0
          ? { contentVariables: JSON.stringify(content.variables) }
          : {}),
      };
    case 'reaction':
      throw new AppError('channel_unsupported', 'Twilio cannot send WhatsApp reactions');
  }
}

export function createTwilioChannel(
  settings: TwilioSettings,
  log?: Logger,
  numbers?: Pick<NumberDirectory, 'find'>,
): Channel {
  const client = createTwilioClient(settings);
  const accounts = new Map<string, TwilioClient>();

  /**
   * The client of the account `from` belongs to: its own credentials when its row has them, else ours. For a
   * send (`mustBeActive`), a number the directory does not list (removed, or deactivated by its row, an
   * environment number included) is refused before Twilio is asked: Twilio would send from it, as Meta cannot.
   * A lookup (findSent) may still ask about it: a message sent before the deactivation must be found.
   */
  async function clientFor(from: string, mustBeActive: boolean): Promise<TwilioClient> {
    const number = numbers ? await numbers.find('twilio', from) : null;
    if (numbers && !number && mustBeActive) {
      const refusal = `no active Twilio number ${from}: it was removed or deactivated`;
      log?.warn({ from, kind: 'config' }, `Twilio send refused: ${refusal}`);
      throw new AppError('config', refusal, { notSent: true });
    }
    const { accountSid, authToken } = number?.credentials ?? {};
    if (!accountSid || !authToken) return client;
    if (accountSid === settings.accountSid && authToken === settings.authToken) return client;
    // Keyed by both: a rotated token gets a new client (the old one is left to the garbage collector).
    const key = `${accountSid}\u0000${authToken}`;
    let own = accounts.get(key);
    if (!own) {
      own = createTwilioClient({ ...settings, accountSid, authToken });
      accounts.set(key, own);
    }
    return own;
  }

  async function send(message: OutboundMessage): Promise<SendResult> {
    try {
      const params = twilioMessageParams(message);
      const from = message.from ?? settings.whatsappNumber;
      const created = await (
        await clientFor(from, true)
      ).messages.create({
        to: message.to,
        from,
        ...params,
        ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
      });
      return { providerMessageId: created.sid, status: toDeliveryStatus(created.status) };
    } catch (error) {
      if (error instanceof AppError) throw error;
      const mapped = mapTwilioError(error, 'send');
      log?.warn({ kind: mapped.kind, code: mapped.code, retryable: mapped.retryable }, mapped.message);
      throw mapped;
    }
  }

  /**
   * MediaUrl{N} with the Basic auth of the account the number belongs to (its own SID and token when its row has
   * them, else the environment's): Twilio serves an account's media only to that account. Refusals (too large,
   * a type we do not take, a URL off Twilio's host, gone) stay MediaRefused; anything else is a retryable failure.
   */
  async function fetchMedia(
    item: MediaItem,
    businessAddress: string,
    limits: { maxBytes: number; timeoutMs: number },
    signal?: AbortSignal,
  ): Promise<FetchedMedia> {
    const credentials = (await numbers?.find('twilio', businessAddress))?.credentials;
    const own = credentials?.accountSid && credentials.authToken ? credentials : undefined;
    try {
      return await fetchTwilioMedia(
        item.reference,
        {
          apiBaseUrl: settings.apiBaseUrl ?? TWILIO_API,
          accountSid: own?.accountSid ?? settings.accountSid,
          authToken: own?.authToken ?? settings.authToken,
        },
        limits,
        signal,
      );
    } catch (error) {
      if (error instanceof MediaRefused || signal?.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError('channel_unavailable', `Twilio media download failed: ${reason}`, { cause: error });
    }
  }

  async function findSent(query: {
    to: string;
    from?: string;
    body: string;
    sentAfter: Date;
    template?: boolean;
  }): Promise<SendResult | null> {
    const since = query.sentAfter.getTime() - CLOCK_SLACK_MS;
    // No DateSent> filter: a message still queued has no date_sent yet, and is exactly the one we look for.
    let messages;
    try {
      const from = query.from ?? settings.whatsappNumber;
      messages = await (
        await clientFor(from, false)
      ).messages.list({
        to: query.to,
        from,
        limit: FIND_SENT_LIMIT,
      });
    } catch (error) {
      throw mapTwilioError(error, 'message lookup');
    }
    let newest: { sid: string; status: string; at: number } | null = null;
    for (const candidate of messages) {
      const at = candidate.dateCreated instanceof Date ? candidate.dateCreated.getTime() : Number.NaN;
      // A template's text is Twilio's rendering, unknown to us: it is matched by recipient and time alone (its
      // part was sent under the conversation's lock, so no other message of ours went to this user meanwhile).
      if ((!query.template && candidate.body !== query.body) || !(at >= since)) continue;
      if (newest === null || at > newest.at) newest = { sid: candidate.sid, status: candidate.status, at };
    }
    return newest && { providerMessageId: newest.sid, status: toDeliveryStatus(newest.status) };
  }

  return {
    name: 'twilio',
    maxBodyLength: TWILIO_MAX_BODY_LENGTH,
    capabilities: TWILIO_CAPABILITIES,
    senders: [settings.whatsappNumber],
    send,
    findSent,
    fetchMedia,
  };
}

export interface TwilioAccount {
  sid: string;
  friendlyName: string;
  /** `active`, `suspended` or `closed`. */
  status: string;
}

/** GET the account resource: proves the SID and auth token work (chatbot validate-config). */
export async function fetchTwilioAccount(settings: TwilioSettings): Promise<TwilioAccount> {
  const client = createTwilioClient(settings, { timeoutMs: 10_000 });
  try {
    const account = await client.api.v2010.account.fetch();
    return { sid: account.sid, friendlyName: account.friendlyName, status: account.status };
  } catch (error) {
    throw mapTwilioError(error, 'account check');
  }
}
