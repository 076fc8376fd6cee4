/** One conversation: who, its state, the operator's actions, and the whole thread with per-message figures. */
import { describeOutcome, PROCESSING_STATUSES, type ProcessingStatus } from '../../domain/outcome.js';
import type { ThreadMessage } from '../../db/admin-queries.js';
import type { Conversation } from '../../db/conversations.js';
import { storedContent } from '../../domain/content-payload.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import {
  badge,
  csrfField,
  deliveryBadge,
  emptyState,
  facts,
  formatNumber,
  notice,
  time,
} from './components.js';
import { statusBadges } from './conversation-list.js';
import { layout } from './layout.js';
import { messageContentHtml } from './message-content.js';

export const DONE_NOTICES: Record<string, string> = {
  paused: 'The bot is paused: new messages are stored but not answered until you resume it.',
  resumed: 'The bot is answering this conversation again.',
  reset: 'Context reset: the model will not see the messages before now.',
};

function actionForm(id: string, csrf: string, path: string, label: string, style: string, confirm?: string) {
  return html`<form
    method="post"
    action="/admin/conversations/${id}/${path}"
    ${confirm ? html`data-confirm="${confirm}"` : ''}
  >
    ${csrfField(csrf)}<button type="submit" class="button ${style}">${label}</button>
  </form>`;
}

const OUTCOME_TONE = {
  pending: 'neutral',
  answered: 'good',
  notice: 'warn',
  skipped: 'neutral',
  failed: 'bad',
} as const;

function isProcessingStatus(value: string | null): value is ProcessingStatus {
  return value !== null && (PROCESSING_STATUSES as readonly string[]).includes(value);
}

function meta(m: ThreadMessage): SafeHtml {
  const parts: SafeHtml[] = [time(m.createdAt)];
  // Every inbound message says how it ended, so "why did it not reply?" is answered here, not in the logs.
  if (m.role === 'user' && isProcessingStatus(m.processingStatus)) {
    const attempts =
      m.processingStatus === 'failed' && m.attempts > 0
        ? ` (after ${m.attempts} attempt${m.attempts === 1 ? '' : 's'})`
        : '';
    const sentence = `${describeOutcome(m.processingStatus, m.outcomeReason)}${attempts}`;
    parts.push(
      html`<span class="outcome" title="${sentence}"
        >${badge(
          m.outcomeReason ? `${m.processingStatus}: ${m.outcomeReason}` : m.processingStatus,
          OUTCOME_TONE[m.processingStatus],
        )} <span class="muted">${sentence}</span></span
      >`,
    );
  }
  if (m.author === 'system') parts.push(badge('notice', 'neutral'));
  if (m.model) parts.push(html`<span title="${m.provider ?? ''}">${m.model}</span>`);
  if (m.inputTokens !== null || m.outputTokens !== null)
    parts.push(
      html`<span
        >${formatNumber(m.inputTokens ?? 0)} in · ${formatNumber(m.outputTokens ?? 0)} out tokens</span
      >`,
    );
  if (m.latencyMs !== null) parts.push(html`<span>${formatNumber(m.latencyMs)} ms</span>`);
  if (m.errorKind) parts.push(badge(`fallback: ${m.errorKind}`, 'warn'));
  return html`<div class="bubble-meta">${parts.map((p) => html`<span class="meta-item">${p}</span>`)}</div>`;
}

function deliveries(m: ThreadMessage): SafeHtml {
  if (m.deliveries.length === 0) return html``;
  return html`<ul class="deliveries" aria-label="Delivery">
    ${m.deliveries.map(
      (d) =>
        html`<li>
          ${d.partCount > 1 ? html`<span class="muted">part ${d.partIndex + 1}/${d.partCount}</span>` : ''}
          ${deliveryBadge(d.status)} ${d.errorCode ? html`<code>error ${d.errorCode}</code>` : ''}
        </li>`,
    )}
  </ul>`;
}

/** What the thread knows of other messages: their text by provider id, and the reactions they received. */
interface ThreadIndex {
  textById: Map<string, string>;
  reactionsById: Map<string, string[]>;
}

function indexThread(messages: ThreadMessage[]): ThreadIndex {
  const textById = new Map<string, string>();
  const reactionsById = new Map<string, string[]>();
  for (const m of messages) {
    for (const d of m.deliveries) if (d.providerMessageId) textById.set(d.providerMessageId, m.content);
    if (m.providerMessageId) textById.set(m.providerMessageId, m.content);
    const { content } = storedContent(m.payload ?? null, m.content);
    if (content.type === 'reaction' && content.emoji !== null) {
      const list = reactionsById.get(content.targetProviderMessageId) ?? [];
      list.push(content.emoji);
      reactionsById.set(content.targetProviderMessageId, list);
    }
  }
  return { textById, reactionsById };
}

function reactionsOn(m: ThreadMessage, index: ThreadIndex): string[] {
  const ids = [m.providerMessageId, ...m.deliveries.map((d) => d.providerMessageId)];
  return ids.flatMap((id) => (id ? (index.reactionsById.get(id) ?? []) : []));
}

function bubble(m: ThreadMessage, index: ThreadIndex): SafeHtml {
  const who = m.role === 'user' ? 'User' : m.role === 'assistant' ? 'Bot' : 'System';
  const { content, context } = storedContent(m.payload ?? null, m.content);
  const quotedText = context.quote ? index.textById.get(context.quote.providerMessageId) : undefined;
  const reactions = reactionsOn(m, index);
  return html`<li class="bubble bubble-${m.role}">
    <p class="bubble-who">${who}</p>
    ${messageContentHtml(content, context, quotedText !== undefined ? { quotedText } : {})}
    ${reactions.length > 0 ? html`<p class="bubble-reactions" aria-label="Reactions">${reactions.join(' ')}</p>` : ''}
    ${meta(m)} ${deliveries(m)}
  </li>`;
}

function thread(messages: ThreadMessage[], resetAt: Date | null): SafeHtml {
  const items: SafeHtml[] = [];
  const index = indexThread(messages);
  let resetShown = resetAt === null;
  for (const m of messages) {
    if (!resetShown && resetAt && m.createdAt > resetAt) {
      items.push(html`<li class="divider" role="separator">Context reset ${time(resetAt)}</li>`);
      resetShown = true;
    }
    items.push(bubble(m, index));
  }
  if (!resetShown && resetAt)
    items.push(html`<li class="divider" role="separator">Context reset ${time(resetAt)}</li>`);
  return html`<ol class="thread">
    ${items}
  </ol>`;
}

export function conversationPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  conversation: Conversation;
  thread: { messages: ThreadMessage[]; total: number };
  done: string;
}): SafeHtml {
  const c = input.conversation;
  const csrf = input.session.csrfToken;
  const number = c.userAddress.replace(/^whatsapp:/, '');
  const title = c.profileName ?? number;
  const { messages, total } = input.thread;
  return layout(
    { title, section: 'conversations', session: input.session, simulatorEnabled: input.simulatorEnabled },
    html`<p class="breadcrumb"><a href="/admin/conversations">← Conversations</a></p>
      <div class="page-head page-head-actions">
        <div>
          <h1>${title}</h1>
          <p class="muted">${c.profileName ? number : ''} ${statusBadges(c)}</p>
        </div>
        <div class="actions">
          ${
            c.mode !== 'bot'
              ? actionForm(c.id, csrf, 'resume', 'Resume bot', 'button-primary')
              : actionForm(
                  c.id,
                  csrf,
                  'pause',
                  'Pause bot',
                  'button-secondary',
                  'Pause the bot? New messages will be stored but not answered until you resume it.',
                )
          }
          ${actionForm(
            c.id,
            csrf,
            'reset-context',
            'Reset context',
            'button-secondary',
            'Reset the context? The model will no longer see the earlier messages.',
          )}
        </div>
      </div>
      ${notice(DONE_NOTICES[input.done])}
      ${c.mode !== 'bot' && input.done !== 'paused' ? notice(c.mode === 'human' ? 'A human handles this conversation: incoming messages are not answered by the bot.' : 'The bot is paused: incoming messages are not answered.', 'info') : ''}
      <div class="card">
        ${facts([
          ['Channel', c.channel],
          ['Number', number],
          ['Our number', c.businessAddress?.replace(/^whatsapp:/, '') ?? null],
          ['Last activity', time(c.lastActivityAt)],
          ['Context reset', c.contextResetAt ? time(c.contextResetAt) : 'never'],
          ['Messages', formatNumber(total)],
        ])}
      </div>
      <section aria-labelledby="thread-title">
        <h2 id="thread-title" class="section-title">Messages</h2>
        ${total > messages.length ? html`<p class="muted">Showing the newest ${formatNumber(messages.length)} of ${formatNumber(total)}.</p>` : ''}
        ${messages.length === 0 ? emptyState('No messages', 'This conversation has no messages.') : thread(messages, c.contextResetAt)}
      </section>`,
  );
}
