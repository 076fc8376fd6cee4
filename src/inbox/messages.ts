/**
 * The operators' read of a conversation's messages (the API's thread, the admin's inbox): each message with who
 * wrote it, its text rendering, and how it ended (an inbound one's outcome, an outbound one's delivery).
 */
import { findConversation, findMessage, findMessages, type MessageRow } from '../db/conversation-views.js';
import { isDeliveryStatus, messageDeliveryStatus } from '../domain/delivery.js';
import { AppError } from '../domain/errors.js';
import { describeOutcome, PROCESSING_STATUSES, type ProcessingStatus } from '../domain/outcome.js';
import type { Actor } from '../domain/roles.js';
import { isWindowFailure, windowNoteOf, type WindowNote } from '../domain/window.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { requirePermission } from './permission.js';

export interface MessageView {
  id: string;
  direction: 'inbound' | 'outbound';
  author: 'user' | 'assistant' | 'operator' | 'system';
  text: string;
  kind: string;
  /** Inbound: the processing status; outbound: the delivery status over its parts. */
  status: string | null;
  /** Inbound: what happened to it, in words; outbound: null. */
  outcome: string | null;
  /** Inbound: the outcome's stable code (a notice, skip or failure reason); null otherwise. */
  outcomeReason: string | null;
  /** Outbound: how delivery failed, with the provider's code (63016: outside the 24-hour window); else null. */
  error: { code: string; outsideWindow: boolean } | null;
  /** Outbound: set when the message is the window template, with why (it replaced a text, it followed a 63016). */
  windowTemplate: WindowNote | null;
  createdAt: Date;
}

export interface MessagePage {
  /** Oldest first. */
  messages: MessageView[];
  /** Pass back as `cursor` for the page of older messages; null when there are none. */
  nextCursor: string | null;
}

export const MESSAGE_PAGE = { default: 100, max: 500 } as const;

type Deps = Pick<PipelineDeps, 'db'>;

/** The newest `limit` messages (older ones with `cursor`), oldest first. */
export async function conversationMessages(
  deps: Deps,
  request: { actor: Actor; conversationId: string; limit?: number | undefined; cursor?: string | undefined },
): Promise<MessagePage> {
  requirePermission(request.actor, 'conversations.read');
  const before = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  if (!(await findConversation(deps.db, request.conversationId))) {
    throw new AppError('not_found', 'no conversation with this id');
  }
  const limit = Math.min(request.limit ?? MESSAGE_PAGE.default, MESSAGE_PAGE.max);
  const rows = await findMessages(deps.db, {
    conversationId: request.conversationId,
    limit: limit + 1,
    before,
  });
  const page = rows.slice(0, limit);
  const oldest = page.at(-1);
  return {
    messages: page.reverse().map(messageView),
    nextCursor: rows.length > limit && oldest ? encodeCursor(oldest.key) : null,
  };
}

/** One message of a conversation; not_found when there is none. */
export async function showMessage(
  deps: Deps,
  request: { actor: Actor; conversationId: string; messageId: string },
): Promise<MessageView> {
  requirePermission(request.actor, 'conversations.read');
  const row = await findMessage(deps.db, request.conversationId, request.messageId);
  if (!row) throw new AppError('not_found', 'no message with this id in this conversation');
  return messageView(row);
}

export function messageView(row: MessageRow): MessageView {
  const inbound = row.role === 'user';
  const processing = inbound ? processingStatusOf(row.processingStatus) : null;
  return {
    id: row.id,
    direction: inbound ? 'inbound' : 'outbound',
    author: inbound ? 'user' : authorOf(row),
    text: row.content,
    kind: row.contentType,
    status: inbound ? row.processingStatus : messageDeliveryStatus(row.partStatuses.filter(isDeliveryStatus)),
    outcome: processing ? describeOutcome(processing, row.outcomeReason) : null,
    outcomeReason: inbound ? row.outcomeReason : null,
    error:
      !inbound && row.errorCode !== null
        ? { code: row.errorCode, outsideWindow: isWindowFailure(row.errorCode) }
        : null,
    windowTemplate: inbound ? null : windowNoteOf({ window: row.windowNote }),
    createdAt: row.createdAt,
  };
}

/** `operator:<id>` → operator; rows older than the author column are the model's replies or notices. */
function authorOf(row: MessageRow): MessageView['author'] {
  if (row.author?.startsWith('operator:')) return 'operator';
  if (row.author === 'system' || (row.author === null && row.role === 'system')) return 'system';
  return 'assistant';
}

function processingStatusOf(value: string | null): ProcessingStatus | null {
  return value !== null && (PROCESSING_STATUSES as readonly string[]).includes(value)
    ? (value as ProcessingStatus)
    : null;
}
