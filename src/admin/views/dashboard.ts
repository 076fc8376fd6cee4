/** The dashboard: figures for today (UTC), the queue, the model in use, and the latest problems. */
import type { DashboardFigures, RecentProblem } from '../../db/admin-queries.js';
import { can } from '../../domain/roles.js';
import type { QueueStats } from '../../ports.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, contact, emptyState, formatNumber, time } from './components.js';
import { layout } from './layout.js';

function stat(label: string, value: HtmlValue, hint?: HtmlValue, tone?: 'bad' | 'warn'): SafeHtml {
  return html`<div class="stat ${tone ? `stat-${tone}` : ''}">
    <p class="stat-label">${label}</p>
    <p class="stat-value">${value}</p>
    ${hint ? html`<p class="stat-hint">${hint}</p>` : ''}
  </div>`;
}

const ms = (value: number | null) => (value === null ? '—' : `${formatNumber(value)} ms`);

export function dashboardPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  figures: DashboardFigures;
  problems: RecentProblem[];
  queue: QueueStats | null;
  model: { provider: string; name: string; configName: string | null };
}): SafeHtml {
  const f = input.figures;
  const q = input.queue;
  return layout(
    {
      title: 'Dashboard',
      section: 'dashboard',
      session: input.session,
      simulatorEnabled: input.simulatorEnabled,
    },
    html`<div class="page-head">
        <h1>Dashboard</h1>
        <p class="muted">Today since 00:00 UTC</p>
      </div>
      <section aria-labelledby="traffic">
        <h2 id="traffic" class="section-title">Traffic</h2>
        <div class="stats">
          ${stat('Messages received', formatNumber(f.inboundToday), html`${formatNumber(f.repliesToday)} ${f.repliesToday === 1 ? 'reply' : 'replies'} sent`)}
          ${stat(
            'Active conversations',
            formatNumber(f.activeConversations),
            f.pausedConversations > 0
              ? html`${formatNumber(f.pausedConversations)} paused for a human`
              : 'none paused',
          )}
          ${stat(
            'Queue',
            q ? formatNumber(q.waiting + q.delayed) : 'unavailable',
            q
              ? html`${formatNumber(q.active)} running · ${formatNumber(q.failed)} failed`
              : 'the queue cannot be reached',
            q ? undefined : 'bad',
          )}
        </div>
      </section>
      <section aria-labelledby="ai">
        <h2 id="ai" class="section-title">Model</h2>
        <div class="stats">
          ${stat('LLM latency (avg)', ms(f.latencyAvgMs), html`p95 ${ms(f.latencyP95Ms)}`)}
          ${stat(
            'Tokens',
            formatNumber(f.inputTokensToday + f.outputTokensToday),
            html`${formatNumber(f.inputTokensToday)} in · ${formatNumber(f.outputTokensToday)} out`,
          )}
          ${stat(
            'Answering with',
            html`<span class="stat-text">${input.model.name}</span>`,
            input.model.configName
              ? html`${input.model.provider} · configuration
                ${
                  can(input.session.role, 'settings.manage')
                    ? html`<a href="/admin/ai-configs">${input.model.configName}</a>`
                    : input.model.configName
                }`
              : html`${input.model.provider} · environment settings`,
          )}
        </div>
      </section>
      <section aria-labelledby="failures">
        <h2 id="failures" class="section-title">Failures</h2>
        <div class="stats">
          ${stat(
            'Failed deliveries',
            formatNumber(f.failedDeliveriesToday),
            'refused or lost by the channel',
            f.failedDeliveriesToday > 0 ? 'bad' : undefined,
          )}
          ${stat(
            'AI fallbacks',
            formatNumber(f.aiFallbacksToday),
            'users who got an apology instead of an answer',
            f.aiFallbacksToday > 0 ? 'warn' : undefined,
          )}
          ${stat(
            'Webhook errors',
            formatNumber(f.webhookErrorsToday),
            can(input.session.role, 'webhooks.read')
              ? html`<a href="/admin/webhook-logs?status=error">see the log</a>`
              : 'calls refused or failed',
            f.webhookErrorsToday > 0 ? 'warn' : undefined,
          )}
        </div>
      </section>
      <section aria-labelledby="recent" class="card">
        <h2 id="recent">Recent problems</h2>
        ${
          input.problems.length === 0
            ? emptyState('No problems', 'No failed deliveries or AI fallbacks recorded.')
            : html`<ul class="problems">
                ${input.problems.map(
                  (p) =>
                    html`<li>
                      ${badge(p.kind === 'ai' ? 'AI fallback' : 'delivery', p.kind === 'ai' ? 'warn' : 'bad')}
                      <a href="/admin/conversations/${p.conversationId}"
                        >${contact(p.profileName, p.userAddress)}</a
                      >
                      <code>${p.detail}</code> <span class="muted">${time(p.at)}</span>
                    </li>`,
                )}
              </ul>`
        }
      </section>`,
  );
}
