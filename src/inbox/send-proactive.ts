/**
 * A message we start: the API's `POST /api/v1/messages`, `chatbot send` and each recipient of `chatbot broadcast`.
 * The address is checked and normalised, the person's conversation found (or created when they never wrote), and
 * the message goes through sendOutbound like any operator message: stored under its idempotency key, delivered
 * by the worker, refused there when the user opted out or the window is closed (AppError conflict with the code).
 */
import { deleteEmptyConversation, findOrCreateConversation } from '../db/conversations.js';
import type { OutboundContent } from '../domain/content.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { recipientAddress } from '../domain/sanitize.js';
import { isContentSid, templateVariablesProblem } from '../domain/template.js';
import type { ChannelName } from '../domain/types.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { sendOutbound, type SentOutbound } from '../pipeline/send-outbound.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

/** A proactive message is a text or a template; media and reactions answer someone, they do not start anything. */
export type ProactiveContent = Extract<OutboundContent, { type: 'text' | 'template' }>;

/** `whatsapp:` addresses go out through Twilio, the only WhatsApp channel today (Meta's would be chosen here). */
const WHATSAPP_CHANNEL = 'twilio' satisfies ChannelName;

export type ProactiveDeps = Pick<
  PipelineDeps,
  'db' | 'queue' | 'channelFor' | 'log' | 'unqueued' | 'settings' | 'numbers'
>;

export interface ProactiveMessage {
  /** The person: `whatsapp:+E164`, `whatsapp:CC.<id>`, or the same without `whatsapp:`. */
  to: string;
  /** One of our numbers on the channel; absent: the channel's default. */
  from?: string | undefined;
  content: ProactiveContent;
  /** The outbound idempotency key: the same key twice stores and sends one message. */
  key: string;
  author: `operator:${string}`;
}

export interface SentProactive extends SentOutbound {
  conversationId: string;
  /** The person had never written: their conversation was created for this message. */
  conversationCreated: boolean;
  /** The normalised address it goes to. */
  to: string;
}

/** Check, find or create the conversation, store and queue. No permission check or audit: the callers do those. */
export async function deliverProactive(
  deps: ProactiveDeps,
  message: ProactiveMessage,
): Promise<SentProactive> {
  const to = recipientAddress(message.to);
  if (to === null)
    throw new AppError(
      'invalid_input',
      `"${message.to}" is not a WhatsApp address (whatsapp:+E164 or a scoped id)`,
      {
        code: 'invalid_address',
      },
    );
  refuseBadContent(message.content);
  const from = await senderFor(deps, message.from);
  const { conversation, created } = await findOrCreateConversation(deps.db, {
    channel: WHATSAPP_CHANNEL,
    address: to,
    businessAddress: from,
  });
  const sent = await sendOutbound(deps, {
    conversationId: conversation.id,
    key: message.key,
    author: message.author,
    content: message.content,
  }).catch(async (error: unknown) => {
    // Refused (opted out, outside the window): a conversation made for this message alone would keep the number
    // of someone who may have asked for nothing, even after an erasure. It goes if it is still empty.
    if (created) await deleteEmptyConversation(deps.db, conversation.id);
    throw error;
  });
  return { ...sent, conversationId: conversation.id, conversationCreated: created, to };
}

export interface ProactiveRequest {
  actor: Actor;
  to: string;
  from?: string | undefined;
  content: ProactiveContent;
  /** The request's idempotency key (the API's Idempotency-Key, a fresh id otherwise); unique per actor. */
  requestKey: string;
}

/**
 * One proactive message from an operator (API token, CLI): `conversations.reply`, as writing into any existing
 * conversation is; audited `message.proactive` once, when it was stored.
 */
export async function sendProactive(deps: ProactiveDeps, request: ProactiveRequest): Promise<SentProactive> {
  requirePermission(request.actor, 'conversations.reply');
  const { actor } = request;
  const sent = await deliverProactive(deps, {
    to: request.to,
    from: request.from,
    content: request.content,
    key: `proactive:${actor.kind}:${actor.id ?? actor.name}:${request.requestKey}`,
    author: `operator:${actor.id ?? actor.kind}`,
  });
  if (sent.created) {
    await audit(deps, {
      actor,
      action: 'message.proactive',
      target: { type: 'conversation', id: sent.conversationId },
      details: {
        messageId: sent.messageId,
        kind: request.content.type,
        ...(request.content.type === 'template' ? { templateId: request.content.templateId } : {}),
        ...(sent.conversationCreated ? { conversationCreated: true } : {}),
      },
    });
  }
  return sent;
}

/**
 * The number a proactive message goes out from (and whose conversation with the person it joins): `from` when it
 * is one of our active numbers on the WhatsApp channel (the environment's or a `business_numbers` row), the
 * channel's default when absent. Throws invalid_input (`invalid_from`, `channel_not_configured`) otherwise.
 */
export async function senderFor(
  deps: Pick<ProactiveDeps, 'channelFor' | 'numbers'>,
  from: string | undefined,
): Promise<string | null> {
  const channel = deps.channelFor(WHATSAPP_CHANNEL);
  if (!channel)
    throw new AppError('invalid_input', 'this server has no WhatsApp channel configured (TWILIO_*)', {
      code: 'channel_not_configured',
    });
  if (from === undefined) return channel.senders[0] ?? null;
  if ((await deps.numbers.find(WHATSAPP_CHANNEL, from)) === null) {
    const ours = (await deps.numbers.list(WHATSAPP_CHANNEL)).map((n) => n.address);
    throw new AppError('invalid_input', `"${from}" is not one of our numbers (${ours.join(', ')})`, {
      code: 'invalid_from',
    });
  }
  return from;
}

/** The text a stored proactive message shows (a template's is its placeholder): what a replayed request must match. */
export function proactiveStoredText(content: ProactiveContent): string {
  return content.type === 'text' ? content.text : `[template ${content.templateId}]`;
}

function refuseBadContent(content: ProactiveContent): void {
  if (content.type === 'text') return; // sendOutbound refuses an empty text
  if (!isContentSid(content.templateId))
    throw new AppError('invalid_input', `"${content.templateId}" is not a Content SID (HX + 32 hex digits)`, {
      code: 'invalid_template',
    });
  const problem = templateVariablesProblem(content.variables);
  if (problem) throw new AppError('invalid_input', problem, { code: 'invalid_template' });
}
