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
import { metaRecipientAddress, recipientAddress } from '../domain/sanitize.js';
import {
  DEFAULT_META_TEMPLATE_LANGUAGE,
  isContentSid,
  isMetaTemplateLanguage,
  isMetaTemplateName,
  templateVariablesProblem,
} from '../domain/template.js';
import type { ChannelName } from '../domain/types.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { sendOutbound, type SentOutbound } from '../pipeline/send-outbound.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

/** A proactive message is a text or a template; media and reactions answer someone, they do not start anything. */
export type ProactiveContent = Extract<OutboundContent, { type: 'text' | 'template' }>;

/** The WhatsApp channels a proactive message can go out on: the one of the number it is sent from. */
type WhatsAppChannel = Extract<ChannelName, 'twilio' | 'meta'>;

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
  const { channel, from } = await originFor(deps, message.from);
  const to = channel === 'meta' ? metaRecipientAddress(message.to) : recipientAddress(message.to);
  if (to === null)
    throw new AppError(
      'invalid_input',
      `"${message.to}" is not a WhatsApp address (${channel === 'meta' ? '+E164 or a business-scoped user id' : 'whatsapp:+E164 or a scoped id'})`,
      {
        code: 'invalid_address',
      },
    );
  const content = withTemplateLanguage(channel, message.content);
  refuseBadContent(channel, content);
  const { conversation, created } = await findOrCreateConversation(deps.db, {
    channel,
    address: to,
    businessAddress: from,
  });
  const sent = await sendOutbound(deps, {
    conversationId: conversation.id,
    key: message.key,
    author: message.author,
    content,
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
/**
 * The channel and number a proactive message goes from: the channel of `from` when it is one of our numbers
 * (Twilio's `whatsapp:+E164`, or a Meta phone number id); without `from`, Twilio's default number when Twilio is
 * configured, else the first Meta number.
 */
export async function originFor(
  deps: Pick<ProactiveDeps, 'channelFor' | 'numbers'>,
  from: string | undefined,
): Promise<{ channel: WhatsAppChannel; from: string | null }> {
  if (from !== undefined) {
    for (const channel of ['twilio', 'meta'] as const) {
      if (deps.channelFor(channel) && (await deps.numbers.find(channel, from)) !== null)
        return { channel, from };
    }
    const ours = [...(await deps.numbers.list('twilio')), ...(await deps.numbers.list('meta'))].map(
      (n) => n.address,
    );
    throw new AppError(
      'invalid_input',
      `"${from}" is not one of our numbers (${ours.join(', ') || 'none'})`,
      {
        code: 'invalid_from',
      },
    );
  }
  const twilio = deps.channelFor('twilio');
  if (twilio) return { channel: 'twilio', from: twilio.senders[0] ?? null };
  const [meta] = deps.channelFor('meta') ? await deps.numbers.list('meta') : [];
  if (meta) return { channel: 'meta', from: meta.address };
  throw new AppError('invalid_input', 'this server has no WhatsApp number configured (TWILIO_* or META_*)', {
    code: 'channel_not_configured',
  });
}

/** The sender `from` names on its channel (or the default): kept for callers that only need the number. */
export async function senderFor(
  deps: Pick<ProactiveDeps, 'channelFor' | 'numbers'>,
  from: string | undefined,
): Promise<string | null> {
  return (await originFor(deps, from)).from;
}

/** The text a stored proactive message shows (a template's is its placeholder): what a replayed request must match. */
export function proactiveStoredText(content: ProactiveContent): string {
  return content.type === 'text' ? content.text : `[template ${content.templateId}]`;
}

/** A Meta template needs a language; en_US when the caller named none (Twilio's Content SID fixes its own). */
function withTemplateLanguage(channel: WhatsAppChannel, content: ProactiveContent): ProactiveContent {
  if (channel !== 'meta' || content.type !== 'template' || content.language !== undefined) return content;
  return { ...content, language: DEFAULT_META_TEMPLATE_LANGUAGE };
}

function refuseBadContent(channel: WhatsAppChannel, content: ProactiveContent): void {
  if (content.type === 'text') return; // sendOutbound refuses an empty text
  const refuse = (reason: string) => {
    throw new AppError('invalid_input', reason, { code: 'invalid_template' });
  };
  if (channel === 'twilio' && !isContentSid(content.templateId))
    refuse(`"${content.templateId}" is not a Content SID (HX + 32 hex digits)`);
  if (channel === 'meta' && !isMetaTemplateName(content.templateId))
    refuse(`"${content.templateId}" is not a Meta template name (lower-case letters, digits, _)`);
  if (channel === 'meta' && !isMetaTemplateLanguage(content.language ?? ''))
    refuse(`"${content.language ?? ''}" is not a template language code (en_US, pt_BR, …)`);
  const problem = templateVariablesProblem(content.variables);
  if (problem) throw new AppError('invalid_input', problem, { code: 'invalid_template' });
}
