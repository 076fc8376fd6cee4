/**
 * An outbound message that is not the model's reply: an operator's text, a template, a media message, a system
 * notice. Stored first under its own idempotency key (the same request twice stores and sends it once), split
 * like a reply, then delivered by the conversation's worker with the same send-once machinery (claim, findSent
 * after a crash, delivery ticks). A channel that cannot send the kind refuses before anything is stored, and so
 * does a user who opted out: this is the one place every operator, handoff and proactive message passes, so the
 * refusal (409 `opted_out` in the API) lives here. The opt-out confirmations are the worker's notices
 * (pipeline/consent.ts) and never come this way.
 *
 * WhatsApp's 24-hour window is kept here too (the bot's replies and notices answer an inbound message: inside the
 * window by construction). Outside it a free-form message (text, media) is stored and sent as the channel's
 * window template instead, with a note in its metadata, or refused with `outside_window` when no template is
 * configured. The opt-out is checked first: a person who said STOP gets no template either.
 */
import { getConversation, type Conversation } from '../db/conversations.js';
import { saveReply, type Author } from '../db/messages.js';
import { conversationOptOut } from '../db/opt-outs.js';
import { outboundIdByKey } from '../db/outbound.js';
import type { OutboundContent } from '../domain/content.js';
import { AppError } from '../domain/errors.js';
import { splitReply } from '../domain/split.js';
import { applyWindow, serviceWindow, type WindowNote } from '../domain/window.js';
import type { Channel } from '../ports.js';
import type { PipelineDeps } from './deps.js';

export interface OutboundRequest {
  conversationId: string;
  /** Idempotency key, unique per message: `operator:<request id>`, `template:<campaign>:<recipient>`, … */
  key: string;
  author: Author;
  content: OutboundContent;
  /** Why this message is a window template, when its sender knows (the fallback after a 63016). */
  windowNote?: WindowNote;
}

export interface SentOutbound {
  messageId: string;
  /** False when the key was used before: nothing new was stored or sent. */
  created: boolean;
  /** False when the queue was unreachable: the parts are stored and sent once the queue is back. */
  queued: boolean;
  /** The window had closed: the channel's window template was stored and sent in place of the content. */
  sentAsTemplate: boolean;
}

type Deps = Pick<PipelineDeps, 'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'settings'>;

export async function sendOutbound(deps: Deps, request: OutboundRequest): Promise<SentOutbound> {
  const conversation = await getConversation(deps.db, request.conversationId);
  if (!conversation) throw new AppError('not_found', 'no such conversation');
  const channel = deps.channelFor(conversation.channel);
  if (!channel) throw new AppError('config', `no channel configured for ${conversation.channel}`);
  refuseUnsupported(channel, request.content);
  await refuseOptedOut(deps, conversation.id);
  const decision = applyWindow(
    request.content,
    serviceWindow(conversation.channel, conversation.lastInboundAt, new Date()),
    deps.settings.windowTemplates[conversation.channel],
  );
  if (decision.kind === 'refuse') return refuseOutsideWindow(deps, conversation, request.key);
  const content = decision.content;
  if (content !== request.content) refuseUnsupported(channel, content);
  const note = decision.note ?? request.windowNote;
  const { text, parts } = partsOf(content, channel.maxBodyLength);
  const saved = await saveReply(deps.db, {
    conversationId: conversation.id,
    answeredIds: [],
    key: request.key,
    author: request.author,
    content: text,
    parts,
    to: conversation.replyAddress,
    from: conversation.businessAddress,
    model: null,
    provider: null,
    usage: null,
    latencyMs: null,
    errorKind: null,
    ...(content.type === 'text' ? {} : { outbound: content }),
    ...(note ? { metadata: { window: note } } : {}),
  });
  let queued = true;
  // The conversation's worker sends it, after whatever reply it may be sending: one sender per conversation.
  if (saved.created) {
    const job = { conversationId: conversation.id, messageId: saved.replyId };
    queued = await deps.queue.enqueue(job).then(
      () => true,
      (error: unknown) => {
        deps.unqueued.add(job);
        deps.log.warn(
          { err: error, messageId: saved.replyId },
          'queue unavailable: queued again when it is back',
        );
        return false;
      },
    );
  }
  return {
    messageId: saved.replyId,
    created: saved.created,
    queued,
    sentAsTemplate: decision.note !== undefined,
  };
}

/**
 * Outside the window with no template to send: refused, unless this very request was stored before (a retry
 * that comes after the window closed gets the message it made, as any repeated key does).
 */
async function refuseOutsideWindow(
  deps: Deps,
  conversation: Conversation,
  key: string,
): Promise<SentOutbound> {
  const existing = await outboundIdByKey(deps.db, key);
  if (existing) return { messageId: existing, created: false, queued: true, sentAsTemplate: false };
  const since =
    conversation.lastInboundAt === null
      ? 'the user has never written'
      : `the user last wrote at ${conversation.lastInboundAt.toISOString()}`;
  throw new AppError(
    'conflict',
    `Outside WhatsApp's 24-hour window (${since}): only an approved template may be sent, and no ${conversation.channel === 'meta' ? 'META_WINDOW_TEMPLATE' : 'WINDOW_TEMPLATE'} is configured.`,
    { code: 'outside_window' },
  );
}

/**
 * Nothing is sent to a user who opted out: refused here with 409. An opt-out recorded after this check (even before
 * the insert) is caught by the delivery guard (db/deliveries.ts), which withholds every part while they are opted out.
 */
async function refuseOptedOut(deps: Pick<Deps, 'db'>, conversationId: string): Promise<void> {
  const optOut = await conversationOptOut(deps.db, conversationId);
  if (optOut)
    throw new AppError(
      'conflict',
      `The user opted out on ${optOut.optedOutAt.toISOString()}: nothing can be sent to them until they opt back in (for instance by writing START). Nothing was sent.`,
      { code: 'opted_out' },
    );
}

/** The channel's own words for what it cannot send: a typed error before anything is stored. */
function refuseUnsupported(channel: Channel, content: OutboundContent): void {
  const { capabilities } = channel;
  const unsupported =
    (content.type === 'media' && !capabilities.media) ||
    (content.type === 'template' && !capabilities.templates) ||
    (content.type === 'reaction' && !capabilities.reactions);
  if (unsupported)
    throw new AppError(
      'channel_unsupported',
      `the ${channel.name} channel cannot send ${content.type} messages`,
    );
  if (content.type === 'text' && content.text.trim() === '')
    throw new AppError('invalid_input', 'an outbound text message cannot be empty');
}

/** Text is split like a reply; a caption past the limit likewise, the media going with the first part only. */
function partsOf(content: OutboundContent, maxLength: number): { text: string; parts: string[] } {
  switch (content.type) {
    case 'text':
      return { text: content.text, parts: splitReply(content.text, maxLength) };
    case 'media': {
      const caption = content.caption ?? '';
      const parts = caption === '' ? [''] : splitReply(caption, maxLength);
      return { text: caption || `[${content.items.map((i) => i.kind).join(', ')}]`, parts };
    }
    case 'template':
      return { text: `[template ${content.templateId}]`, parts: [`[template ${content.templateId}]`] };
    case 'reaction':
      return { text: content.emoji ?? '', parts: [content.emoji ?? ''] };
  }
}
