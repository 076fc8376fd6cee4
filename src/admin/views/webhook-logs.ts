/** The webhook log list (filter by outcome and kind, paginated) and one entry with its payload. */
import type { Page, WebhookLogSummary, WebhookStatusFilter } from '../../db/admin-queries.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, emptyState, facts, formatNumber, formatTotal, pagination, time } from './components.js';
import { layout } from './layout.js';

const STATUS_LABELS: Record<WebhookStatusFilter, string> = {
  all: 'All',
  ok: 'Accepted (below 400)',
  'client-error': 'Refused (4xx)',
  'server-error': 'Server errors (5xx)',
  error: 'Any problem',
};
const KIND_LABELS: Record<string, string> = {
  all: 'All',
  inbound: 'Inbound messages',
  status: 'Status callbacks',
};

function statusBadge(status: number): SafeHtml {
  return badge(String(status), status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'good');
}

function select(id: string, label: string, labels: Record<string, string>, current: string): SafeHtml {
  return html`<div class="field">
    <label for="${id}">${label}</label
    ><select id="${id}" name="${id}">
      ${Object.entries(labels).map(([key, text]) => html`<option value="${key}" ${key === current ? 'selected' : ''}>${text}</option>`)}
    </select>
  </div>`;
}

interface Frame {
  session: AdminSession;
  simulatorEnabled: boolean;
}

export function webhookLogListPage(
  input: Frame & {
    status: WebhookStatusFilter;
    kind: string;
    result: Page<WebhookLogSummary>;
  },
): SafeHtml {
  const { result } = input;
  const filtered = input.status !== 'all' || input.kind !== 'all';
  return layout(
    { title: 'Webhook logs', section: 'webhook-logs', ...input },
    html`<div class="page-head">
        <h1>Webhook logs</h1>
        <p class="muted">${formatTotal(result)} ${filtered ? 'matching' : 'calls kept'}</p>
      </div>
      <form class="filters" method="get" action="/admin/webhook-logs">
        ${select('status', 'Outcome', STATUS_LABELS, input.status)}
        ${select('kind', 'Kind', KIND_LABELS, input.kind)}
        <div class="field field-actions">
          <button type="submit" class="button button-primary">Filter</button>
          ${filtered ? html`<a class="button button-secondary" href="/admin/webhook-logs">Clear</a>` : ''}
        </div>
      </form>
      ${
        result.items.length === 0
          ? emptyState(
              filtered ? 'Nothing matches' : 'No webhook calls yet',
              filtered
                ? 'No calls with this outcome are kept.'
                : 'Calls from Twilio (and the simulator) appear here.',
            )
          : html`<div class="table-wrap">
              <table class="table table-cards">
                <caption class="visually-hidden">
                  Webhook calls, newest first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Status</th>
                    <th scope="col">Path</th>
                    <th scope="col" class="num">Time taken</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  ${result.items.map(
                    (l) =>
                      html`<tr>
                        <td data-label="Time">
                          <a class="row-link" href="/admin/webhook-logs/${l.id}">${time(l.createdAt)}</a>
                        </td>
                        <td data-label="Kind">
                          ${l.kind} ${l.channel !== 'twilio' ? badge(l.channel, 'info') : ''}
                        </td>
                        <td data-label="Status">${statusBadge(l.responseStatus)}</td>
                        <td data-label="Path"><code>${l.method} ${l.path}</code></td>
                        <td data-label="Time taken" class="num">
                          ${formatNumber(Math.round(l.processingTimeMs))} ms
                        </td>
                        <td data-label="Problem" class="preview">${l.error ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${pagination({
        path: '/admin/webhook-logs',
        params: {
          status: input.status === 'all' ? undefined : input.status,
          kind: input.kind === 'all' ? undefined : input.kind,
        },
        page: result.page,
        pageSize: result.pageSize,
        total: result.total,
        totalCapped: result.totalCapped,
      })}`,
  );
}

export function webhookLogPage(
  input: Frame & {
    log: WebhookLogSummary & { headers: Record<string, unknown>; body: Record<string, unknown> };
  },
): SafeHtml {
  const l = input.log;
  return layout(
    { title: 'Webhook call', section: 'webhook-logs', ...input },
    html`<p class="breadcrumb"><a href="/admin/webhook-logs">← Webhook logs</a></p>
      <div class="page-head">
        <h1>${l.kind === 'inbound' ? 'Inbound message' : 'Status callback'}</h1>
        <p class="muted">${time(l.createdAt)} ${statusBadge(l.responseStatus)}</p>
      </div>
      <div class="card">
        ${facts([
          ['Request', html`<code>${l.method} ${l.path}</code>`],
          ['Channel', l.channel],
          ['Response', String(l.responseStatus)],
          ['Time taken', `${l.processingTimeMs.toFixed(1)} ms`],
          ['Message id', l.providerMessageId ? html`<code>${l.providerMessageId}</code>` : null],
          ['Problem', l.error],
        ])}
      </div>
      <div class="grid-2">
        <section class="card" aria-labelledby="body-title">
          <h2 id="body-title">Body</h2>
          <pre class="code" tabindex="0">${JSON.stringify(l.body, null, 2)}</pre>
        </section>
        <section class="card" aria-labelledby="headers-title">
          <h2 id="headers-title">Headers</h2>
          <p class="muted">Credentials and signatures are redacted.</p>
          <pre class="code" tabindex="0">${JSON.stringify(l.headers, null, 2)}</pre>
        </section>
      </div>`,
  );
}
