/**
 * One conversation: who, how it is handled, the operator's actions, the live thread with the composer, and a side
 * column with the details, the assignment and the internal notes. On a phone the columns stack.
 */
import type { ThreadMessage } from '../../db/admin-queries.js';
import type { ConversationNote } from '../../db/conversation-notes.js';
import type { Conversation } from '../../db/conversations.js';
import type { HandoffFacts, Operator } from '../../db/inbox.js';
import type { OptOutState } from '../../db/opt-outs.js';
import { can } from '../../domain/roles.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { formatNumber, notice } from './components.js';
import { composer, conversationActions } from './conversation-actions.js';
import { statusBadges } from './conversation-list.js';
import { conversationFacts, handoffCard, notesCard } from './conversation-side.js';
import { threadItems } from './conversation-thread.js';
import { windowStatus, type ConversationWindow } from './conversation-window.js';
import { layout } from './layout.js';

export const DONE_NOTICES: Record<string, string> = {
  handed:
    'A human handles this conversation now: the user was told, and the bot stays silent until you resume it.',
  paused: 'The bot is paused: new messages are stored but not answered until you resume it.',
  resumed: 'The bot is answering this conversation again.',
  reset: 'Context reset: the model will not see the messages before now.',
  sent: 'Message sent.',
  assigned: 'Assignment saved.',
  noted: 'Note added.',
};

const MODE_NOTICES = {
  human: 'A human handles this conversation: incoming messages are not answered by the bot.',
  paused: 'The bot is paused: incoming messages are not answered.',
} as const;

export interface ConversationPageInput {
  session: AdminSession;
  simulatorEnabled: boolean;
  conversation: Conversation;
  thread: { messages: ThreadMessage[]; total: number };
  done: string;
  handoff: HandoffFacts;
  notes: ConversationNote[];
  operators: Operator[];
  /** The user opted out: nothing can be sent to them, so the composer is disabled. */
  optOut: OptOutState | null;
  /** The composer's nonce (a double submit sends once). */
  requestKey: string;
  now: Date;
  /** WhatsApp's 24-hour window, and whether a template takes a reply's place once it is closed. */
  window: ConversationWindow;
}

function threadSection(input: ConversationPageInput): SafeHtml {
  const c = input.conversation;
  const { messages, total } = input.thread;
  return html`<section class="conversation-main" aria-labelledby="thread-title">
    <h2 id="thread-title" class="section-title">Messages</h2>
    ${total > messages.length ? html`<p class="muted">Showing the newest ${formatNumber(messages.length)} of ${formatNumber(total)}.</p>` : ''}
    <div class="thread-scroll" tabindex="0" aria-label="Messages, oldest first">
      <ol class="thread" data-live="/admin/conversations/${c.id}/events" aria-live="polite">
        ${threadItems(messages, c.contextResetAt)}
      </ol>
      ${messages.length === 0 ? html`<p class="muted thread-empty">No messages yet.</p>` : ''}
    </div>
    ${
      can(input.session.role, 'conversations.reply')
        ? composer({
            conversation: c,
            username: input.session.username,
            csrf: input.session.csrfToken,
            requestKey: input.requestKey,
            blockedReason: input.optOut ? optOutSentence(input.optOut) : null,
            window: input.window,
          })
        : ''
    }
  </section>`;
}

/** "Opted out since 3 Dec 2026, 14:02 UTC (keyword STOP)": why nothing can be sent to this user. */
export function optOutSentence(optOut: OptOutState): string {
  const how =
    optOut.source === 'keyword'
      ? `keyword ${optOut.keyword ?? '?'}`
      : optOut.source === 'provider:21610'
        ? 'Twilio refused a send: 21610, unsubscribed'
        : optOut.source;
  return (
    `Opted out since ${optOut.optedOutAt.toISOString().replace('T', ' ').slice(0, 16)} UTC (${how}): nothing can ` +
    'be sent to this user, by the bot or by an operator, until they opt back in (for instance by writing START).'
  );
}

export function conversationPage(input: ConversationPageInput): SafeHtml {
  const c = input.conversation;
  const number = c.userAddress.replace(/^whatsapp:/, '');
  const title = c.profileName ?? number;
  const modeNotice = c.mode === 'bot' ? null : MODE_NOTICES[c.mode];
  const shownDone = DONE_NOTICES[input.done];
  return layout(
    { title, section: 'conversations', session: input.session, simulatorEnabled: input.simulatorEnabled },
    html`<p class="breadcrumb">
        <a href="/admin/conversations">← Conversations</a> · <a href="/admin/inbox">Inbox</a>
      </p>
      <div class="page-head page-head-actions">
        <div>
          <h1>${title}</h1>
          <p class="muted">${c.profileName ? number : ''} ${statusBadges(c)}</p>
          ${windowStatus(input.window)}
        </div>
        ${conversationActions(c, input.session.role, input.session.csrfToken)}
      </div>
      ${notice(shownDone)} ${input.optOut ? notice(optOutSentence(input.optOut), 'info') : ''}
      ${modeNotice && input.done !== 'paused' && input.done !== 'handed' ? notice(modeNotice, 'info') : ''}
      <div class="conversation-layout">
        ${threadSection(input)}
        <aside class="conversation-side" aria-label="About this conversation">
          ${handoffCard({ ...input, conversation: c })} ${notesCard({ conversationId: c.id, ...input })}
          ${conversationFacts(c, input.thread.total)}
        </aside>
      </div>`,
  );
}
