/** Small pieces every admin page shares: dates, badges, notices, empty states, pagination, the CSRF field. */
import { CSRF_FIELD } from '../auth.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';

/** `2025-03-04 13:05 UTC`: one time zone for every operator, as the dashboard's "today". */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function time(date: Date): SafeHtml {
  return html`<time datetime="${date.toISOString()}">${formatDate(date)}</time>`;
}

export function formatNumber(value: number): string {
  return value.toLocaleString('en-US');
}

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function badge(text: string, tone: Tone = 'neutral'): SafeHtml {
  return html`<span class="badge badge-${tone}">${text}</span>`;
}

const DELIVERY_TONE: Record<string, Tone> = {
  read: 'good',
  delivered: 'good',
  sent: 'info',
  queued: 'neutral',
  accepted: 'neutral',
  scheduled: 'neutral',
  pending: 'neutral',
  sending: 'neutral',
  failed: 'bad',
  undelivered: 'bad',
  canceled: 'warn',
  unknown: 'warn',
};

export function deliveryBadge(status: string): SafeHtml {
  return badge(status, DELIVERY_TONE[status] ?? 'neutral');
}

export function notice(text: string | null | undefined, tone: 'good' | 'bad' | 'info' = 'good'): SafeHtml {
  if (!text) return html``;
  return html`<div class="notice notice-${tone}" role="${tone === 'bad' ? 'alert' : 'status'}">${text}</div>`;
}

export function emptyState(title: string, text: HtmlValue): SafeHtml {
  return html`<div class="empty">
    <p class="empty-title">${title}</p>
    <p>${text}</p>
  </div>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

/** A one-button form posting to `action` with the CSRF token; `confirm` asks first (admin.js). */
export function postButton(
  action: string,
  csrf: string,
  label: string,
  style: string,
  confirm?: string,
): SafeHtml {
  return html`<form
    method="post"
    action="${action}"
    class="inline"
    ${confirm ? html`data-confirm="${confirm}"` : ''}
  >
    ${csrfField(csrf)}<button type="submit" class="button ${style}">${label}</button>
  </form>`;
}

/** A labelled form control with its hint (the control names the hint with aria-describedby="<id>-hint"). */
export function labelledField(
  id: string,
  label: string,
  control: SafeHtml,
  hint?: SafeHtml | string,
): SafeHtml {
  return html`<div class="field">
    <label for="${id}">${label}</label>${control}
    ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
  </div>`;
}

/** A URL with its query string; empty values are left out so links stay short. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A list's row count; a count that stopped at its cap reads "10,000+". */
export function formatTotal(result: { total: number; totalCapped: boolean }): string {
  return `${formatNumber(result.total)}${result.totalCapped ? '+' : ''}`;
}

export function pagination(input: {
  path: string;
  params: Record<string, string | undefined>;
  page: number;
  pageSize: number;
  total: number;
  /** The count stopped at its cap: the number of pages is unknown, and Next stays open. */
  totalCapped?: boolean;
}): SafeHtml {
  const capped = input.totalCapped === true;
  const pages = capped ? Infinity : Math.max(1, Math.ceil(input.total / input.pageSize));
  if (pages <= 1) return html``;
  const link = (page: number) =>
    withQuery(input.path, { ...input.params, page: page === 1 ? undefined : page });
  const first = (input.page - 1) * input.pageSize + 1;
  const last = capped ? input.page * input.pageSize : Math.min(input.total, input.page * input.pageSize);
  const of = capped ? '' : ` of ${pages}`;
  const total = formatTotal({ total: input.total, totalCapped: capped });
  const info = `${formatNumber(first)}–${formatNumber(last)} of ${total} · page ${input.page}${of}`;
  return html`<nav class="pagination" aria-label="Pages">
    ${
      input.page > 1
        ? html`<a class="button button-secondary" href="${link(input.page - 1)}" rel="prev">← Previous</a>`
        : html`<span class="button button-secondary" aria-disabled="true">← Previous</span>`
    }
    <span class="pagination-info">${info}</span>
    ${
      input.page < pages
        ? html`<a class="button button-secondary" href="${link(input.page + 1)}" rel="next">Next →</a>`
        : html`<span class="button button-secondary" aria-disabled="true">Next →</span>`
    }
  </nav>`;
}

/** A label/value list, as on detail pages. */
export function facts(rows: Array<[string, HtmlValue]>): SafeHtml {
  return html`<dl class="facts">
    ${rows.map(
      ([label, value]) =>
        html`<div>
          <dt>${label}</dt>
          <dd>${value ?? '—'}</dd>
        </div>`,
    )}
  </dl>`;
}

/** The person as the operator knows them: profile name and number. */
export function contact(profileName: string | null, address: string): SafeHtml {
  const number = address.replace(/^whatsapp:/, '');
  return profileName
    ? html`<span class="contact"
        ><span class="contact-name">${profileName}</span> <span class="contact-number">${number}</span></span
      >`
    : html`<span class="contact"><span class="contact-name">${number}</span></span>`;
}
