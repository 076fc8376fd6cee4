/**
 * The conversation list: search by number, name or message text (with the matching words shown), filter, one row
 * per conversation, pagination.
 */
import type { ConversationMode } from '../../domain/conversation-mode.js';
import type { ConversationFilter, ConversationSummary, Page } from '../../db/admin-queries.js';
import { MATCH_END, MATCH_START } from '../../db/message-search.js';
import { storedContent } from '../../domain/content-payload.js';
import { summarize } from '../../domain/render-content.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, contact, emptyState, formatNumber, formatTotal, pagination, time } from './components.js';
import { layout } from './layout.js';

const FILTER_LABELS: Record<ConversationFilter, string> = {
  all: 'All',
  active: 'Active',
  inactive: 'Inactive',
  paused: 'Not answered by the bot (human or paused)',
};

/** The last message as one line: its summary when the row has a payload, else its text, cut. */
function preview(c: ConversationSummary): string {
  if (c.lastMessage === null) return '';
  if (c.lastPayload !== null) return summarize(storedContent(c.lastPayload, c.lastMessage).content);
  return c.lastMessage.length > 90 ? `${c.lastMessage.slice(0, 90)}…` : c.lastMessage;
}

export function statusBadges(c: { isActive: boolean; mode: ConversationMode }): SafeHtml {
  return html`${c.mode === 'paused' ? badge('bot paused', 'warn') : c.mode === 'human' ? badge('human', 'warn') : ''}
  ${c.isActive ? badge('active', 'good') : badge('inactive')}`;
}

/** The matching message, its matched words marked; every piece is escaped by the template. */
export function snippetHtml(snippet: string): SafeHtml {
  const pieces = snippet.split(MATCH_START).map((chunk, i) => {
    if (i === 0) return html`${chunk}`;
    const [matched = '', rest = ''] = chunk.split(MATCH_END);
    return html`<mark>${matched}</mark>${rest}`;
  });
  return html`<span class="snippet" title="A message that matches">“${pieces}”</span>`;
}

function row(c: ConversationSummary): SafeHtml {
  return html`<tr>
    <td data-label="Contact">
      <a class="row-link" href="/admin/conversations/${c.id}">${contact(c.profileName, c.userAddress)}</a>
      ${c.channel !== 'twilio' ? badge(c.channel, 'info') : ''}
      ${c.businessAddress ? html`<span class="muted" title="Our number">to ${c.businessAddress.replace(/^whatsapp:/, '')}</span>` : ''}
    </td>
    <td data-label="Status">${statusBadges(c)}</td>
    <td data-label="Messages" class="num">${formatNumber(c.messageCount)}</td>
    <td data-label="Last message" class="preview">
      <span>${c.lastRole === 'assistant' ? html`<span class="muted">Bot: </span>` : ''}${preview(c)}</span>
      ${c.snippet ? snippetHtml(c.snippet) : ''}
    </td>
    <td data-label="Last activity">${time(c.lastActivityAt)}</td>
  </tr>`;
}

export function conversationListPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  search: string;
  filter: ConversationFilter;
  result: Page<ConversationSummary>;
}): SafeHtml {
  const { result } = input;
  const filtered = input.search !== '' || input.filter !== 'all';
  return layout(
    {
      title: 'Conversations',
      section: 'conversations',
      session: input.session,
      simulatorEnabled: input.simulatorEnabled,
    },
    html`<div class="page-head">
        <h1>Conversations</h1>
        <p class="muted">${formatTotal(result)} ${filtered ? 'matching' : 'in total'}</p>
      </div>
      <form class="filters" method="get" action="/admin/conversations" role="search">
        <div class="field field-grow">
          <label for="q">Number, name or message text</label>
          <input
            id="q"
            name="q"
            type="search"
            value="${input.search}"
            placeholder="+1415…, Ada or a word they wrote"
            accesskey="s"
          />
        </div>
        <div class="field">
          <label for="filter">Show</label>
          <select id="filter" name="filter">
            ${(Object.keys(FILTER_LABELS) as ConversationFilter[]).map(
              (key) =>
                html`<option value="${key}" ${key === input.filter ? 'selected' : ''}>
                  ${FILTER_LABELS[key]}
                </option>`,
            )}
          </select>
        </div>
        <div class="field field-actions">
          <button type="submit" class="button button-primary">Search</button>
          ${filtered ? html`<a class="button button-secondary" href="/admin/conversations">Clear</a>` : ''}
        </div>
      </form>
      ${
        result.items.length === 0
          ? emptyState(
              filtered ? 'No conversation matches' : 'No conversations yet',
              filtered
                ? 'Try another number, name or word, or show all conversations.'
                : 'They appear here as soon as someone writes to your WhatsApp number.',
            )
          : html`<div class="table-wrap">
              <table class="table table-cards">
                <caption class="visually-hidden">
                  Conversations, most recent first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Contact</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">Messages</th>
                    <th scope="col">Last message</th>
                    <th scope="col">Last activity</th>
                  </tr>
                </thead>
                <tbody>
                  ${result.items.map(row)}
                </tbody>
              </table>
            </div>`
      }
      ${pagination({
        path: '/admin/conversations',
        params: { q: input.search, filter: input.filter === 'all' ? undefined : input.filter },
        page: result.page,
        pageSize: result.pageSize,
        total: result.total,
        totalCapped: result.totalCapped,
      })}`,
  );
}
