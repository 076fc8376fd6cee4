/**
 * Business number pages: the list (the environment's numbers and the stored ones), and the add/edit form.
 * Credentials are write-only: a form never shows a stored secret back, only whether the number has any, and a
 * credential field left empty keeps what is stored.
 */
import type { BusinessNumberRow } from '../../db/business-numbers.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { badge, csrfField, emptyState, notice, time, labelledField, postButton } from './components.js';
import { layout } from './layout.js';

export const NUMBER_NOTICES: Record<string, string> = {
  added: 'Number added: running processes answer on it within seconds.',
  saved: 'Saved: running processes use the change within AI_CONFIG_REFRESH_SECONDS.',
  deactivated:
    'Number deactivated: its messages are acknowledged and not stored, and nothing is sent from it.',
  activated: 'Number reactivated: the bot answers on it again.',
  removed: 'Number removed. Its conversations stay.',
};

/** The credential fields of each channel, in the order the form shows them. */
export const CREDENTIAL_FIELDS = {
  meta: [
    ['accessToken', 'Access token', 'The permanent (system user) token. Empty: META_ACCESS_TOKEN.'],
    ['appSecret', 'App secret', "Checks the webhook's signature. Empty: META_APP_SECRET."],
    [
      'verifyToken',
      'Verify token',
      "The webhook's verify token, a value you choose. Empty: META_VERIFY_TOKEN.",
    ],
  ],
  twilio: [
    [
      'accountSid',
      'Account SID',
      "Only for a number of another Twilio account (AC…). Empty: TWILIO_*'s account.",
    ],
    ['authToken', 'Auth token', "That account's auth token; needed with its account SID."],
  ],
} as const;

export type CredentialField = (typeof CREDENTIAL_FIELDS)[keyof typeof CREDENTIAL_FIELDS][number][0];

/** What the form sends back when it is shown again after a problem; credentials are never echoed. */
export interface NumberFormValues {
  channel: string;
  address: string;
  name: string;
  aiConfig: string;
}

export interface NumberListItem {
  row: BusinessNumberRow;
  aiConfig: string | null;
}

interface Frame {
  session: AdminSession;
  simulatorEnabled: boolean;
}

const field = labelledField;

const channelLabel = (channel: string) => (channel === 'meta' ? 'Meta' : 'Twilio');

function stateToggle(row: BusinessNumberRow, csrf: string): SafeHtml {
  return row.isActive
    ? postButton(
        `/admin/numbers/${row.id}/deactivate`,
        csrf,
        'Deactivate',
        'button-secondary',
        `Deactivate ${row.address}? Its messages are acknowledged and dropped until it is reactivated.`,
      )
    : postButton(`/admin/numbers/${row.id}/activate`, csrf, 'Reactivate', 'button-primary');
}

export function numberListPage(
  input: Frame & {
    numbers: NumberListItem[];
    environment: Array<{ channel: 'twilio' | 'meta'; address: string }>;
    done: string;
    canStoreCredentials: boolean;
  },
): SafeHtml {
  const csrf = input.session.csrfToken;
  const stored = (channel: string, address: string) =>
    input.numbers.find((n) => n.row.channel === channel && n.row.address === address);
  return layout(
    { title: 'Numbers', section: 'numbers', ...input },
    html`<div class="page-head page-head-actions">
        <div>
          <h1>Business numbers</h1>
          <p class="muted">
            The WhatsApp numbers the bot answers on, each with the AI configuration (persona) that answers
            there.
          </p>
        </div>
        <div class="actions"><a class="button button-primary" href="/admin/numbers/new">Add a number</a></div>
      </div>
      ${notice(NUMBER_NOTICES[input.done])}
      ${input.canStoreCredentials ? '' : notice('FIELD_ENCRYPTION_KEY is not set: numbers with credentials of their own cannot be saved. Generate one with `chatbot generate-key`.', 'info')}
      ${
        input.environment.length === 0
          ? ''
          : html`<section class="card" aria-labelledby="env-title">
              <h2 id="env-title">From the environment</h2>
              <p class="muted">
                Always answered on, with the active AI configuration, unless a stored number below has the
                same address: that one gives it a persona, and deactivating it deactivates this number too.
              </p>
              <ul>
                ${input.environment.map((n) => {
                  const row = stored(n.channel, n.address)?.row;
                  return html`<li>
                    ${channelLabel(n.channel)} <code>${n.address}</code>
                    ${row ? (row.isActive ? badge('refined below', 'good') : badge('deactivated below', 'bad')) : ''}
                  </li>`;
                })}
              </ul>
            </section>`
      }
      ${
        input.numbers.length === 0
          ? emptyState(
              'No stored numbers',
              html`Only the environment's numbers answer. <a href="/admin/numbers/new">Add a number</a> to
                answer on another Twilio sender or Meta phone number id, with its own persona.`,
            )
          : html`<div class="table-wrap">
              <table class="table table-cards">
                <caption class="visually-hidden">
                  Stored business numbers
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Address</th>
                    <th scope="col">AI configuration</th>
                    <th scope="col">Credentials</th>
                    <th scope="col">Status</th>
                    <th scope="col"><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${input.numbers.map(
                    ({ row, aiConfig }) =>
                      html`<tr>
                        <td data-label="Name">
                          <a href="/admin/numbers/${row.id}"><strong>${row.name ?? row.address}</strong></a>
                        </td>
                        <td data-label="Channel">${channelLabel(row.channel)}</td>
                        <td data-label="Address"><code>${row.address}</code></td>
                        <td data-label="AI configuration">
                          ${aiConfig ?? html`<span class="muted">the active one</span>`}
                        </td>
                        <td data-label="Credentials">
                          ${row.credentialsEncrypted === null ? html`<span class="muted">environment's</span>` : 'stored'}
                        </td>
                        <td data-label="Status">
                          ${row.isActive ? badge('active', 'good') : badge('inactive')}
                        </td>
                        <td data-label="Actions" class="row-actions">
                          ${stateToggle(row, csrf)}
                          <a class="button button-secondary" href="/admin/numbers/${row.id}">Edit</a>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }`,
  );
}

function credentialFields(channels: Array<'meta' | 'twilio'>, editing: boolean): SafeHtml {
  return html`${channels.map(
    (channel) =>
      html`<fieldset class="form">
        <legend>
          ${channelLabel(channel)}
          credentials${channels.length > 1 ? ` (${channelLabel(channel)} numbers only)` : ''}
        </legend>
        ${CREDENTIAL_FIELDS[channel].map(([name, label, hint]) =>
          field(
            name,
            label,
            html`<input
              id="${name}"
              name="${name}"
              type="password"
              autocomplete="new-password"
              spellcheck="false"
              aria-describedby="${name}-hint"
            />`,
            editing ? `${hint} Leave empty to keep what is stored.` : hint,
          ),
        )}
      </fieldset>`,
  )}`;
}

export function numberFormPage(
  input: Frame & {
    number?: NumberListItem | undefined;
    aiConfigs: string[];
    form?: NumberFormValues | undefined;
    error?: string | undefined;
    saved?: boolean;
  },
): SafeHtml {
  const row = input.number?.row;
  const csrf = input.session.csrfToken;
  const v: NumberFormValues = input.form ?? {
    channel: row?.channel ?? 'twilio',
    address: row?.address ?? '',
    name: row?.name ?? '',
    aiConfig: input.number?.aiConfig ?? '',
  };
  const title = row ? (row.name ?? row.address) : 'Add a business number';
  const channels: Array<'meta' | 'twilio'> = row
    ? [row.channel === 'meta' ? 'meta' : 'twilio']
    : ['meta', 'twilio'];
  return layout(
    { title, section: 'numbers', ...input },
    html`<p class="breadcrumb"><a href="/admin/numbers">← Numbers</a></p>
      <div class="page-head">
        <h1>${title}</h1>
        ${row ? html`<p class="muted">${channelLabel(row.channel)} <code>${row.address}</code> ${row.isActive ? badge('active', 'good') : badge('inactive')} updated ${time(row.updatedAt)}</p>` : ''}
      </div>
      ${input.saved ? notice(NUMBER_NOTICES.saved) : ''} ${input.error ? notice(input.error, 'bad') : ''}
      <div class="${row ? 'grid-2' : 'narrow'}">
        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <form
            method="post"
            action="${row ? `/admin/numbers/${row.id}` : '/admin/numbers'}"
            class="form"
            autocomplete="off"
          >
            ${csrfField(csrf)}
            ${
              row
                ? ''
                : html`${field(
                    'channel',
                    'Channel',
                    html`<select id="channel" name="channel">
                      ${(['twilio', 'meta'] as const).map((c) => html`<option value="${c}" ${c === v.channel ? 'selected' : ''}>${channelLabel(c)}</option>`)}
                    </select>`,
                  )}
                  ${field(
                    'address',
                    'Number',
                    html`<input
                      id="address"
                      name="address"
                      required
                      maxlength="100"
                      value="${v.address}"
                      aria-describedby="address-hint"
                    />`,
                    'Twilio: the WhatsApp sender, whatsapp:+E164 (e.g. whatsapp:+14155238886). Meta: the phone number id from the app dashboard (digits).',
                  )}`
            }
            ${field('name', 'Name', html`<input id="name" name="name" maxlength="100" value="${v.name}" aria-describedby="name-hint" />`, 'For people; empty: the number.')}
            ${field(
              'aiConfig',
              'AI configuration',
              html`<select id="aiConfig" name="aiConfig" aria-describedby="aiConfig-hint">
                <option value="" ${v.aiConfig === '' ? 'selected' : ''}>The active configuration</option>
                ${input.aiConfigs.map((name) => html`<option value="${name}" ${name === v.aiConfig ? 'selected' : ''}>${name}</option>`)}
              </select>`,
              'Its system prompt, model and temperature answer on this number.',
            )}
            ${
              row
                ? html`<p class="muted">
                    Credentials:
                    ${row.credentialsEncrypted === null ? "none stored (the environment's are used)" : 'stored (never shown)'}.
                  </p>`
                : ''
            }
            ${credentialFields(channels, row !== undefined)}
            <div class="form-actions">
              <button type="submit" class="button button-primary">
                ${row ? 'Save changes' : 'Add number'}
              </button>
              <a class="button button-secondary" href="/admin/numbers">Cancel</a>
            </div>
          </form>
        </section>
        ${
          row
            ? html`<section class="card" aria-labelledby="state-title">
                <h2 id="state-title">State</h2>
                <div class="row-actions">
                  ${stateToggle(row, csrf)}
                  ${postButton(
                    `/admin/numbers/${row.id}/delete`,
                    csrf,
                    'Remove',
                    'button-danger',
                    `Remove ${row.address}? Its conversations stay; its messages are no longer answered.`,
                  )}
                </div>
              </section>`
            : ''
        }
      </div>`,
  );
}
