/**
 * The operators' reads of conversations (the API's list and detail, the admin's inbox): each checks
 * `conversations.read`, so a role that may not read gets 403 wherever it asks.
 */
import { findConversation, findConversations, type ConversationRow } from '../db/conversation-views.js';
import type { ConversationMode } from '../domain/conversation-mode.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { ChannelName } from '../domain/types.js';
import { serviceWindow, type WindowState } from '../domain/window.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { requirePermission } from './permission.js';

export type ConversationView = Omit<ConversationRow, 'key' | 'lastInboundAt'> & {
  /** WhatsApp's 24-hour window: whether a free-form message may go now, and when it closes (closed). */
  window: WindowState;
};

export interface ConversationPage {
  conversations: ConversationView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export const CONVERSATION_PAGE = { default: 50, max: 200 } as const;

type Deps = Pick<PipelineDeps, 'db'>;

/** Conversations, newest activity first, one page at a time. */
export async function browseConversations(
  deps: Deps,
  request: {
    actor: Actor;
    mode?: ConversationMode | undefined;
    user?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
): Promise<ConversationPage> {
  requirePermission(request.actor, 'conversations.read');
  const limit = Math.min(request.limit ?? CONVERSATION_PAGE.default, CONVERSATION_PAGE.max);
  // One row more than the page tells whether there is a next page without counting.
  const rows = await findConversations(deps.db, {
    mode: request.mode,
    user: request.user,
    limit: limit + 1,
    after: request.cursor === undefined ? undefined : decodeCursor(request.cursor),
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    conversations: page.map(conversationView),
    nextCursor: rows.length > limit && last ? encodeCursor(last.key) : null,
  };
}

/** One conversation; not_found when there is none with this id. */
export async function showConversation(
  deps: Deps,
  request: { actor: Actor; conversationId: string },
): Promise<ConversationView> {
  requirePermission(request.actor, 'conversations.read');
  const row = await findConversation(deps.db, request.conversationId);
  if (!row) throw new AppError('not_found', 'no conversation with this id');
  return conversationView(row);
}

function conversationView({ key: _key, lastInboundAt, ...view }: ConversationRow): ConversationView {
  // The CHECK constraint keeps `channel` to the ChannelName values.
  return { ...view, window: serviceWindow(view.channel as ChannelName, lastInboundAt, new Date()) };
}
