/**
 * "Needs a human": the conversations handed to a person, oldest waiting first, with how long each has waited, why,
 * who has it, and its last message. One click assigns it to you; the row opens the conversation.
 */
import type { InboxFilter, InboxItem } from '../../db/inbox.js';
import { INBOX_LIMIT } from '../../db/inbox.js';
import { storedContent } from '../../domain/content-payload.js';
import { summarize } from '../../domain/render-content.js';
import { can } from '../../domain/roles.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, contact, csrfField, emptyState, formatNumber, notice, time } from './components.js';
import { layout } from './layout.js';
import { formatWait } from './wait-time.js';

const FILTER_LABELS: Record<InboxFilter, string> = {
  all: 'All',
  mine: 'Mine',
  unassigned: 'Unassigned',
};

function preview(item: InboxItem): SafeHtml {
  if (item.lastMessage === null) return html``;
  const text =
    item.lastPayload !== null
      ? summarize(storedContent(item.lastPayload, item.lastMessage).content)
      : item.lastMessage;
  const cut = text.length > 90 ? `${text.slice(0, 90)}…` : text;
  const who =
    item.lastRole === 'user'
      ? ''
      : item.lastAuthor?.startsWith('operator:')
        ? 'Operator: '
        : item.lastAuthor === 'system'
          ? 'Notice: '
          : 'Bot: ';
  return html`${who ? html`<span class="muted">${who}</span>` : ''}${cut}`;
}

function assignee(item: InboxItem, session: AdminSession): SafeHtml {
  if (item.assigneeId === session.userId) return badge('you', 'info');
  if (item.assigneeName) return html`${item.assigneeName}`;
  if (!can(session.role, 'conversations.assign')) return html`<span class="muted">nobody</span>`;
  return html`<form method="post" action="/admin/conversations/${item.id}/assign" class="inline-form">
    ${csrfField(session.csrfToken)}<input type="hidden" name="assignee" value="me" />
    <input type="hidden" name="return" value="inbox" />
    <button type="submit" class="button button-secondary button-small">Assign to me</button>
  </form>`;
}

function row(item: InboxItem, session: AdminSession, now: Date): SafeHtml {
  return html`<tr>
    <td data-label="Contact">
      <a class="row-link" href="/admin/conversations/${item.id}"
        >${contact(item.profileName, item.userAddress)}</a
      >
      ${item.channel !== 'twilio' ? badge(item.channel, 'info') : ''}
    </td>
    <td data-label="Waiting">
      <strong class="wait">${formatWait(now.getTime() - item.handoffAt.getTime())}</strong>
      <span class="muted small">since ${time(item.handoffAt)}</span>
    </td>
    <td data-label="Reason">${item.handoffReason ?? html`<span class="muted">—</span>`}</td>
    <td data-label="Assigned to">${assignee(item, session)}</td>
    <td data-label="Last message" class="preview"><span>${preview(item)}</span></td>
  </tr>`;
}

export function inboxPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  filter: InboxFilter;
  result: { items: InboxItem[]; total: number };
  assigned: boolean;
  now: Date;
}): SafeHtml {
  const { result, filter } = input;
  const which = filter === 'all' ? '' : ` (${FILTER_LABELS[filter].toLowerCase()})`;
  const summary = `${formatNumber(result.total)} waiting${which} · oldest first`;
  return layout(
    { title: 'Inbox', section: 'inbox', session: input.session, simulatorEnabled: input.simulatorEnabled },
    html`<div class="page-head">
        <h1>Needs a human</h1>
        <p class="muted">${summary}</p>
      </div>
      ${input.assigned ? notice('Assigned to you.') : ''}
      <nav class="tabs" aria-label="Show">
        ${(Object.keys(FILTER_LABELS) as InboxFilter[]).map(
          (key) =>
            html`<a
              class="tab"
              href="/admin/inbox${key === 'all' ? '' : `?filter=${key}`}"
              ${key === filter ? html`aria-current="page"` : ''}
              >${FILTER_LABELS[key]}</a
            >`,
        )}
      </nav>
      ${
        result.items.length === 0
          ? emptyState(
              'Nobody is waiting',
              filter === 'all'
                ? 'Conversations appear here when a user asks for a person, the model hands over, or an operator does.'
                : 'No conversation in this view: try "All".',
            )
          : html`<div class="table-wrap">
                <table class="table table-cards inbox-table">
                  <caption class="visually-hidden">
                    Conversations waiting for a human, oldest first
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Contact</th>
                      <th scope="col">Waiting</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Assigned to</th>
                      <th scope="col">Last message</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${result.items.map((item) => row(item, input.session, input.now))}
                  </tbody>
                </table>
              </div>
              ${result.total > result.items.length ? html`<p class="muted">Showing the ${formatNumber(INBOX_LIMIT)} that have waited longest of ${formatNumber(result.total)}.</p>` : ''}`
      }`,
  );
}
