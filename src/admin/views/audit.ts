/** The audit log page: who did what, when, to what and from where; filters by action and actor. */
import type { AuditEntry } from '../../db/audit-log.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, emptyState, time, withQuery } from './components.js';
import { layout } from './layout.js';

const DETAILS_MAX = 200;

const KIND_LABELS: Record<AuditEntry['actorKind'], string> = {
  user: 'account',
  token: 'API token',
  cli: 'CLI',
  system: 'system',
};

/** `key=value` pairs on one line, cut short: the row stays readable, the full value is in the title. */
export function compactDetails(details: Record<string, unknown>): string {
  const text = Object.entries(details)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return text.length > DETAILS_MAX ? `${text.slice(0, DETAILS_MAX - 1)}…` : text;
}

function target(entry: AuditEntry): SafeHtml | string {
  if (!entry.targetType || !entry.targetId) return '—';
  if (entry.targetType === 'conversation')
    return html`<a href="/admin/conversations/${entry.targetId}">conversation</a>`;
  // A person's pseudonym (data rights) is shown whole: it is how their export and erasure rows are matched.
  if (entry.targetType === 'user') return html`person <code>${entry.targetId}</code>`;
  return html`${entry.targetType} <code>${entry.targetId.slice(0, 8)}</code>`;
}

function who(entry: AuditEntry): SafeHtml {
  // A failed sign-in names the username typed, not a proven account: say so.
  const unverified = entry.actorKind === 'user' && entry.actorId === null;
  return html`${entry.actorName}
  ${badge(unverified ? 'not signed in' : KIND_LABELS[entry.actorKind], unverified ? 'warn' : 'neutral')}`;
}

export function auditPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  entries: AuditEntry[];
  filter: { action: string; actor: string };
  /** Past the first page (an "older" link was followed). */
  paged: boolean;
  /** The cursor of the next, older page, or null on the last one. */
  older: string | null;
}): SafeHtml {
  const { filter } = input;
  const filtered = filter.action !== '' || filter.actor !== '';
  const link = (before?: string) =>
    withQuery('/admin/audit', { action: filter.action, actor: filter.actor, before });
  return layout(
    {
      title: 'Audit log',
      section: 'audit',
      session: input.session,
      simulatorEnabled: input.simulatorEnabled,
    },
    html`<div class="page-head">
        <h1>Audit log</h1>
        <p class="muted">Every sign-in, operator action and settings change, newest first. Kept for good.</p>
      </div>
      <form class="filters" method="get" action="/admin/audit">
        <div class="field field-grow">
          <label for="action">Action</label>
          <input
            id="action"
            name="action"
            type="search"
            value="${filter.action}"
            placeholder="login or ai-config.update"
          />
        </div>
        <div class="field field-grow">
          <label for="actor">Who</label>
          <input
            id="actor"
            name="actor"
            type="search"
            value="${filter.actor}"
            placeholder="a username, cli, system"
          />
        </div>
        <div class="field field-actions">
          <button type="submit" class="button button-primary">Filter</button>
          ${filtered ? html`<a class="button button-secondary" href="/admin/audit">Clear</a>` : ''}
        </div>
      </form>
      ${
        input.entries.length === 0
          ? emptyState(
              filtered || input.paged ? 'Nothing more' : 'Nothing recorded yet',
              filtered ? 'No entries match these filters.' : 'Sign-ins and changes appear here.',
            )
          : html`<div class="table-wrap">
              <table class="table table-cards">
                <caption class="visually-hidden">
                  Audit log, newest first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">IP</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  ${input.entries.map((entry) => {
                    const details = compactDetails(entry.details);
                    return html`<tr>
                      <td data-label="When">${time(entry.createdAt)}</td>
                      <td data-label="Who">${who(entry)}</td>
                      <td data-label="Action"><code>${entry.action}</code></td>
                      <td data-label="Target">${target(entry)}</td>
                      <td data-label="IP">${entry.ip ?? '—'}</td>
                      <td data-label="Details" class="preview" title="${JSON.stringify(entry.details)}">
                        ${details}
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
      }
      <nav class="pagination" aria-label="Pages">
        ${
          input.paged
            ? html`<a class="button button-secondary" href="${link()}">← Newest</a>`
            : html`<span class="button button-secondary" aria-disabled="true">← Newest</span>`
        }
        ${
          input.older
            ? html`<a class="button button-secondary" href="${link(input.older)}" rel="next">Older →</a>`
            : html`<span class="button button-secondary" aria-disabled="true">Older →</span>`
        }
      </nav>`,
  );
}
