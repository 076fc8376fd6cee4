/**
 * The thread of one conversation: a bubble per message with its outcome, model figures and per-part delivery
 * status. The page renders the newest messages; the live thread (routes/conversation-events.ts) sends the same
 * bubbles again as they appear or change, each with a version that changes whenever its rendering does.
 */
import { createHash } from 'node:crypto';
import type { ThreadMessage } from '../../db/admin-queries.js';
import { storedContent } from '../../domain/content-payload.js';
import { describeOutcome, PROCESSING_STATUSES, type ProcessingStatus } from '../../domain/outcome.js';
import { windowNoteOf } from '../../domain/window.js';
import { html, type SafeHtml } from '../html.js';
import type { LiveMessage } from '../live/thread-feeds.js';
import { badge, deliveryBadge, formatNumber, time } from './components.js';
import { deliveryErrorHtml, windowNoteHtml } from './conversation-window.js';
import { adminMediaUrl } from '../routes/media.js';
import { messageContentHtml } from './message-content.js';

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
          ${deliveryBadge(d.status)} ${deliveryErrorHtml(d.errorCode)} ${partMedia(d.payload)}
        </li>`,
    )}
  </ul>`;
}

/** A part that carried a file of ours (a voice answer): played like the user's. */
function partMedia(payload: unknown): SafeHtml | '' {
  if (payload === null || payload === undefined) return '';
  const { content } = storedContent({ content: payload }, '');
  if (content.type !== 'media') return '';
  return messageContentHtml(content, {}, { mediaUrl: adminMediaUrl });
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

/** Who wrote it, as the operator reads it, and the bubble's style. */
function authorOf(m: ThreadMessage): { who: string; style: string } {
  if (m.role === 'user') return { who: 'User', style: 'user' };
  if (m.author?.startsWith('operator:'))
    return { who: m.operatorName ? `${m.operatorName} (operator)` : 'Operator', style: 'operator' };
  if (m.author === 'system' || m.role === 'system') return { who: 'System', style: 'system' };
  return { who: 'Bot', style: 'assistant' };
}

function bubble(m: ThreadMessage, index: ThreadIndex): { markup: SafeHtml; version: string } {
  const { who, style } = authorOf(m);
  const { content, context } = storedContent(m.payload ?? null, m.content);
  const quotedText = context.quote ? index.textById.get(context.quote.providerMessageId) : undefined;
  const reactions = reactionsOn(m, index);
  const inner = html`<p class="bubble-who">${who}</p>
    ${messageContentHtml(content, context, {
      ...(quotedText !== undefined ? { quotedText } : {}),
      mediaUrl: adminMediaUrl,
    })}
    ${reactions.length > 0 ? html`<p class="bubble-reactions" aria-label="Reactions">${reactions.join(' ')}</p>` : ''}
    ${windowNoteHtml(windowNoteOf({ window: m.windowNote }))} ${meta(m)} ${deliveries(m)}`;
  const version = createHash('sha256').update(inner.value).digest('base64url').slice(0, 16);
  const markup = html`<li
    class="bubble bubble-${style}"
    data-message-id="${m.id}"
    data-at="${m.createdAt.toISOString()}"
    data-version="${version}"
  >
    ${inner}
  </li>`;
  return { markup, version };
}

function resetDivider(resetAt: Date): SafeHtml {
  return html`<li class="divider" role="separator">Context reset ${time(resetAt)}</li>`;
}

/** The thread's list items, oldest first, with the context reset where it happened. */
export function threadItems(messages: ThreadMessage[], resetAt: Date | null): SafeHtml[] {
  const items: SafeHtml[] = [];
  const index = indexThread(messages);
  let resetShown = resetAt === null;
  for (const m of messages) {
    if (!resetShown && resetAt && m.createdAt > resetAt) {
      items.push(resetDivider(resetAt));
      resetShown = true;
    }
    items.push(bubble(m, index).markup);
  }
  if (!resetShown && resetAt) items.push(resetDivider(resetAt));
  return items;
}

/** The same bubbles for the live thread, with the id and version the page compares. */
export function liveMessages(messages: ThreadMessage[]): LiveMessage[] {
  const index = indexThread(messages);
  return messages.map((m) => {
    const { markup, version } = bubble(m, index);
    return { id: m.id, version, html: markup.value };
  });
}
