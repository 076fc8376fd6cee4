/**
 * WhatsApp's customer-service window: a business may send free-form messages (text, media) only within 24 hours
 * of the user's last message; after that, only approved templates. Pure rules; the outbound path
 * (pipeline/send-outbound.ts) applies them, the admin and the API show them.
 */
import type { OutboundContent } from './content.js';
import type { ChannelName } from './types.js';

export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Channels that enforce the window: WhatsApp's. The simulator is not WhatsApp and imposes none. */
const WINDOW_CHANNELS: ReadonlySet<ChannelName> = new Set(['twilio', 'meta']);

export interface WindowState {
  /** Free-form messages may be sent now. */
  open: boolean;
  /** When it closes (or closed); null when the user never wrote, or the channel has no window. */
  closesAt: Date | null;
}

export function hasServiceWindow(channel: ChannelName): boolean {
  return WINDOW_CHANNELS.has(channel);
}

/** The window of a conversation on `channel` whose user last wrote at `lastInboundAt` (null: never). */
export function serviceWindow(channel: ChannelName, lastInboundAt: Date | null, now: Date): WindowState {
  if (!hasServiceWindow(channel)) return { open: true, closesAt: null };
  if (lastInboundAt === null) return { open: false, closesAt: null };
  const closesAt = new Date(lastInboundAt.getTime() + SERVICE_WINDOW_MS);
  return { open: now < closesAt, closesAt };
}

export type FreeFormContent = Extract<OutboundContent, { type: 'text' | 'media' }>;

/** Text and media are free-form; a template may go at any time; a reaction answers a message (Meta allows it). */
export function isFreeForm(content: OutboundContent): content is FreeFormContent {
  return content.type === 'text' || content.type === 'media';
}

/**
 * The providers' codes for "outside the window", reported when the send is refused or, later, in a status
 * callback: Twilio's 63016; Meta's 131047 (for the Meta channel). The one list: the sender, the status callbacks,
 * the sweep's query (db/window-failures.ts) and the admin all read it.
 */
export const WINDOW_FAILURE_CODES: readonly string[] = ['63016', '131047'];

const WINDOW_FAILURE_SET: ReadonlySet<string> = new Set(WINDOW_FAILURE_CODES);

export function isWindowFailure(errorCode: string | null | undefined): boolean {
  return errorCode !== null && errorCode !== undefined && WINDOW_FAILURE_SET.has(errorCode);
}

/** A failure older than this is not followed by the sweep any more: a day-old template would come out of nowhere. */
export const WINDOW_FALLBACK_HORIZON_MS = SERVICE_WINDOW_MS;

export type TemplateContent = Extract<OutboundContent, { type: 'template' }>;

/**
 * Why an outbound message is a window template, kept in the message's metadata (`window`): it replaced a
 * free-form message the window no longer allowed (what was written is kept for the operators, never sent), or it
 * followed a message the provider reported as outside the window.
 */
export type WindowNote =
  | { reason: 'outside_window'; replaced: 'text' | 'media'; text: string }
  | { reason: 'window_failure'; failedMessageId: string; errorCode: string };

export type WindowDecision =
  { kind: 'send'; content: OutboundContent; note?: WindowNote } | { kind: 'refuse' };

/**
 * What to send: the content itself when the window allows it (open, or not free-form); else the configured
 * template in its place; else nothing (`refuse`: the caller answers `outside_window`).
 */
export function applyWindow(
  content: OutboundContent,
  window: WindowState,
  template: TemplateContent | undefined,
): WindowDecision {
  if (window.open || !isFreeForm(content)) return { kind: 'send', content };
  if (!template) return { kind: 'refuse' };
  const text = content.type === 'text' ? content.text : (content.caption ?? '');
  return {
    kind: 'send',
    content: template,
    note: { reason: 'outside_window', replaced: content.type === 'text' ? 'text' : 'media', text },
  };
}

/** A message's stored metadata read back as its window note, if it has one. */
export function windowNoteOf(metadata: unknown): WindowNote | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const note = (metadata as { window?: unknown }).window;
  if (typeof note !== 'object' || note === null) return null;
  const reason = (note as { reason?: unknown }).reason;
  return reason === 'outside_window' || reason === 'window_failure' ? (note as WindowNote) : null;
}
