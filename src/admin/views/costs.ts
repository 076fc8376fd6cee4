/**
 * /admin/costs: model spend (README "Cost and spend caps"). Today against the caps, the spend per day, and one
 * day's spend by business number, model, user and conversation; models without a price are pointed out (their
 * calls are counted, their cost is unknown). /admin/costs/conversations/<id>: one conversation, per answer.
 */
import { formatUsd } from '../../domain/prices.js';
import type { ConversationCost, ConversationSpend, DaySpend, KeyedSpend } from '../../db/spend.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { contact, emptyState, formatNumber, withQuery } from './components.js';
import { layout } from './layout.js';

export interface CostsPageInput {
  session: AdminSession;
  simulatorEnabled: boolean;
  timezone: string;
  today: string;
  day: string;
  spentTodayMicros: number;
  caps: { userDailyMicros: number; dailyMicros: number; cheaperModel: string | null };
  days: DaySpend[];
  byNumber: KeyedSpend[];
  byModel: KeyedSpend[];
  byUser: KeyedSpend[];
  byConversation: ConversationSpend[];
}

const cap = (micros: number) => (micros > 0 ? formatUsd(micros) : 'none');

function keyedTable(
  caption: string,
  keyLabel: string,
  rows: KeyedSpend[],
  show: (key: string) => SafeHtml | string,
): SafeHtml {
  if (rows.length === 0) return emptyState(`No ${keyLabel.toLowerCase()} figures`, 'No model call that day.');
  return html`<div class="table-wrap">
    <table class="table">
      <caption class="visually-hidden">
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">${keyLabel}</th>
          <th scope="col">Cost</th>
          <th scope="col">Calls</th>
          <th scope="col">Unpriced calls</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr>
              <td>${show(row.key)}</td>
              <td>${formatUsd(row.costMicros)}</td>
              <td>${formatNumber(row.calls)}</td>
              <td>
                ${row.unpricedCalls > 0 ? html`<strong>${formatNumber(row.unpricedCalls)}</strong>` : '0'}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** `twilio:whatsapp:+1555…` → the channel and the address. */
function splitKey(key: string): { channel: string; address: string } {
  const at = key.indexOf(':');
  return at < 0 ? { channel: key, address: '' } : { channel: key.slice(0, at), address: key.slice(at + 1) };
}

export function costsPage(input: CostsPageInput): SafeHtml {
  const unpriced = input.byModel.filter((row) => row.unpricedCalls > 0);
  const shareOfCap =
    input.caps.dailyMicros > 0
      ? ` (${Math.floor((input.spentTodayMicros * 100) / input.caps.dailyMicros)} % of the daily cap)`
      : '';
  return layout(
    { title: 'Costs', section: 'costs', session: input.session, simulatorEnabled: input.simulatorEnabled },
    html`<div class="page-head">
        <h1>Costs</h1>
        <p class="muted">Days in ${input.timezone}; prices as they were when each call was made</p>
      </div>
      <section aria-labelledby="today">
        <h2 id="today" class="section-title">Today (${input.today})</h2>
        <dl class="facts">
          <div>
            <dt>Spent today</dt>
            <dd data-testid="spent-today">${formatUsd(input.spentTodayMicros)}${shareOfCap}</dd>
          </div>
          <div>
            <dt>Daily cap, everyone (SPEND_CAP_DAILY_USD)</dt>
            <dd>${cap(input.caps.dailyMicros)}</dd>
          </div>
          <div>
            <dt>Daily cap per user (SPEND_CAP_USER_DAILY_USD)</dt>
            <dd>${cap(input.caps.userDailyMicros)}</dd>
          </div>
          <div>
            <dt>Over a cap</dt>
            <dd>
              ${input.caps.cheaperModel ? html`answered by <code>${input.caps.cheaperModel}</code>` : 'a notice once a day, no model call'}
            </dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="per-day">
        <h2 id="per-day" class="section-title">Per day</h2>
        ${
          input.days.length === 0
            ? emptyState('No spend yet', 'Model calls appear here once they are recorded.')
            : html`<div class="table-wrap">
                <table class="table">
                  <caption class="visually-hidden">
                    Spend per day, newest first
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col">Cost</th>
                      <th scope="col">Calls</th>
                      <th scope="col">Unpriced calls</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${input.days.map(
                      (d) =>
                        html`<tr>
                          <td>
                            <a
                              href="${withQuery('/admin/costs', { day: d.day })}"
                              ${d.day === input.day ? html`aria-current="true"` : ''}
                              >${d.day}</a
                            >
                          </td>
                          <td>${formatUsd(d.costMicros)}</td>
                          <td>${formatNumber(d.calls)}</td>
                          <td>${formatNumber(d.unpricedCalls)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
      </section>
      <section aria-labelledby="day-detail">
        <h2 id="day-detail" class="section-title">${input.day}</h2>
        ${
          unpriced.length > 0
            ? html`<p class="notice notice-bad" role="status">
                Models without a price (their calls are counted, their cost is unknown):
                ${unpriced.map((row) => html`<code>${row.key}</code> `)}— add them to MODEL_PRICES_FILE or
                give the AI configuration a price.
              </p>`
            : ''
        }
        <h3>By business number</h3>
        ${keyedTable('Spend by business number', 'Number', input.byNumber, (key) => {
          const { channel, address } = splitKey(key);
          return `${channel} ${address === '' ? '(default number)' : address}`;
        })}
        <h3>By model</h3>
        ${keyedTable('Spend by model', 'Model', input.byModel, (key) => html`<code>${key}</code>`)}
        <h3>Top users</h3>
        ${keyedTable('Spend by user', 'User', input.byUser, (key) => {
          const { channel, address } = splitKey(key);
          return html`${contact(null, address)} <span class="muted">${channel}</span>`;
        })}
        <h3>Top conversations</h3>
        ${
          input.byConversation.length === 0
            ? emptyState('No conversation figures', 'No model call that day.')
            : html`<div class="table-wrap">
                <table class="table">
                  <caption class="visually-hidden">
                    Spend by conversation
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Conversation</th>
                      <th scope="col">Number</th>
                      <th scope="col">Cost</th>
                      <th scope="col">Calls</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${input.byConversation.map(
                      (c) =>
                        html`<tr>
                          <td>
                            <a href="/admin/costs/conversations/${c.conversationId}"
                              >${contact(null, c.userAddress)}</a
                            >
                          </td>
                          <td>${c.channel} ${c.businessAddress === '' ? '(default)' : c.businessAddress}</td>
                          <td>${formatUsd(c.costMicros)}</td>
                          <td>${formatNumber(c.calls)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
      </section>`,
  );
}

export function conversationCostPage(input: {
  session: AdminSession;
  simulatorEnabled: boolean;
  conversationId: string;
  userAddress: string;
  cost: ConversationCost;
}): SafeHtml {
  const { cost } = input;
  return layout(
    {
      title: 'Conversation cost',
      section: 'costs',
      session: input.session,
      simulatorEnabled: input.simulatorEnabled,
    },
    html`<div class="page-head">
        <h1>Cost of ${contact(null, input.userAddress)}</h1>
        <p class="muted"><a href="/admin/conversations/${input.conversationId}">Open the conversation</a></p>
      </div>
      <dl class="facts">
        <div>
          <dt>All model calls kept</dt>
          <dd data-testid="conversation-cost">${formatUsd(cost.costMicros)}</dd>
        </div>
        <div>
          <dt>Calls</dt>
          <dd>
            ${formatNumber(cost.calls)}${cost.unpricedCalls > 0 ? ` (${formatNumber(cost.unpricedCalls)} unpriced)` : ''}
          </dd>
        </div>
      </dl>
      ${
        cost.messages.length === 0
          ? emptyState('No answers yet', 'Answers by the model appear here with what they cost.')
          : html`<div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">
                  Cost per answer
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Answer</th>
                    <th scope="col">Cost</th>
                    <th scope="col">Calls</th>
                  </tr>
                </thead>
                <tbody>
                  ${cost.messages.map(
                    (m) =>
                      html`<tr>
                        <td><code>${m.messageId}</code></td>
                        <td>${formatUsd(m.costMicros)}</td>
                        <td>${formatNumber(m.calls)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }`,
  );
}
