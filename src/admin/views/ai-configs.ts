/** AI configuration pages: the list, and the create/edit form with its live test. */
import { AI_CONFIG_PROVIDERS, type AiConfigView } from '../../db/ai-configs.js';
import type { AiTestResult } from '../ai-test.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import {
  badge,
  csrfField,
  emptyState,
  formatNumber,
  notice,
  time,
  labelledField,
  postButton,
} from './components.js';
import { layout } from './layout.js';
import { visionByDefault } from '../../ai/vision-models.js';

/** `sees images`, `text only`, with `(by model name)` when the table decides. */
function visionLabel(c: Pick<AiConfigView, 'vision' | 'model'>): string {
  const sees = c.vision ?? visionByDefault(c.model);
  return `${sees ? 'sees images' : 'text only'}${c.vision === null ? ' (by model name)' : ''}`;
}

export const LIST_NOTICES: Record<string, string> = {
  created: 'Configuration created. Activate it to have the bot use it.',
  'created-active': 'Configuration created and activated: workers switch to it within seconds.',
  activated: 'Configuration activated: workers switch to it within seconds.',
  'activated-forced':
    'Configuration activated although its live test failed: until it is fixed, users may get apologies instead of answers.',
  deactivated: 'Configuration deactivated: the bot uses the environment settings again.',
  deleted: 'Configuration deleted.',
};

export interface FormValues {
  name: string;
  provider: string;
  model: string;
  baseUrl: string;
  systemPrompt: string;
  temperature: string;
  maxTokens: string;
  /** `default` (the table of well-known vision models decides), `on` or `off`. */
  vision: string;
  voiceAnswers: boolean;
  voice: string;
  activate: boolean;
  clearKey: boolean;
}

interface Frame {
  session: AdminSession;
  simulatorEnabled: boolean;
}

export function aiConfigListPage(
  input: Frame & {
    configs: AiConfigView[];
    environment: { provider: string; model: string };
    answering: { provider: string; model: string };
    done: string;
    canStoreKeys: boolean;
  },
): SafeHtml {
  const csrf = input.session.csrfToken;
  const active = input.configs.find((c) => c.isActive);
  return layout(
    { title: 'AI configurations', section: 'ai-configs', ...input },
    html`<div class="page-head page-head-actions">
        <div>
          <h1>AI configurations</h1>
          <p class="muted">
            The active configuration overrides the environment's AI settings, without a restart.
          </p>
        </div>
        <div class="actions">
          <a class="button button-primary" href="/admin/ai-configs/new">New configuration</a>
        </div>
      </div>
      ${notice(LIST_NOTICES[input.done])}
      ${input.canStoreKeys ? '' : notice('FIELD_ENCRYPTION_KEY is not set: configurations that need an API key cannot be saved. Generate one with `chatbot generate-key`.', 'info')}
      <div class="card card-row">
        <div>
          <p class="stat-label">Answering now</p>
          <p>
            <strong>${input.answering.model}</strong> <span class="muted">(${input.answering.provider})</span>
          </p>
        </div>
        <div>
          <p class="stat-label">Source</p>
          <p>
            ${active ? html`configuration <strong>${active.name}</strong>` : html`environment settings (${input.environment.provider} ${input.environment.model})`}
          </p>
        </div>
      </div>
      ${
        input.configs.length === 0
          ? emptyState(
              'No configurations yet',
              html`The bot uses the environment settings.
                <a href="/admin/ai-configs/new">Create a configuration</a> to switch models from here.`,
            )
          : html`<div class="table-wrap">
              <table class="table table-cards">
                <caption class="visually-hidden">
                  AI configurations
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Model</th>
                    <th scope="col">API key</th>
                    <th scope="col">Images</th>
                    <th scope="col">Status</th>
                    <th scope="col"><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${input.configs.map(
                    (c) =>
                      html`<tr>
                        <td data-label="Name">
                          <a href="/admin/ai-configs/${c.id}"><strong>${c.name}</strong></a>
                        </td>
                        <td data-label="Provider">${c.provider}</td>
                        <td data-label="Model"><code>${c.model}</code></td>
                        <td data-label="API key"><code>${c.apiKeyMasked ?? 'none'}</code></td>
                        <td data-label="Images">${visionLabel(c)}</td>
                        <td data-label="Status">
                          ${c.isActive ? badge('active', 'good') : badge('inactive')}
                        </td>
                        <td data-label="Actions" class="row-actions">
                          ${
                            c.isActive
                              ? postButton(
                                  `/admin/ai-configs/${c.id}/deactivate`,
                                  csrf,
                                  'Deactivate',
                                  'button-secondary',
                                )
                              : postButton(
                                  `/admin/ai-configs/${c.id}/activate`,
                                  csrf,
                                  'Activate',
                                  'button-primary',
                                )
                          }
                          <a class="button button-secondary" href="/admin/ai-configs/${c.id}">Edit</a>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }`,
  );
}

function problems(error: string | undefined): SafeHtml {
  if (!error) return html``;
  const prefix = 'Invalid AI configuration: ';
  if (!error.startsWith(prefix)) return notice(error, 'bad');
  return html`<div class="notice notice-bad" role="alert">
    <p>Please fix:</p>
    <ul>
      ${error
        .slice(prefix.length)
        .split('; ')
        .map((p) => html`<li>${p}</li>`)}
    </ul>
  </div>`;
}

const field = labelledField;

function testPanel(
  config: AiConfigView,
  csrf: string,
  prompt: string,
  test: AiTestResult | undefined,
): SafeHtml {
  return html`<section class="card" aria-labelledby="test-title">
    <h2 id="test-title">Test</h2>
    <p class="muted">Sends one message through this configuration and shows the answer.</p>
    <form method="post" action="/admin/ai-configs/${config.id}/test" class="form" data-busy="Testing…">
      ${csrfField(csrf)}
      ${field('prompt', 'Message', html`<textarea id="prompt" name="prompt" rows="2">${prompt}</textarea>`)}
      <button type="submit" class="button button-secondary">Run test</button>
    </form>
    ${
      test === undefined
        ? ''
        : test.ok
          ? html`<div class="test-result test-ok" role="status" aria-live="polite">
              <p>
                ${badge('OK', 'good')} <strong>${test.model}</strong> answered in
                ${formatNumber(test.latencyMs)} ms · ${formatNumber(test.inputTokens)} in /
                ${formatNumber(test.outputTokens)} out tokens
              </p>
              <blockquote class="answer">${test.text}</blockquote>
            </div>`
          : html`<div class="test-result test-bad" role="alert">
              <p>${badge(test.kind, 'bad')} failed after ${formatNumber(test.latencyMs)} ms</p>
              <p>${test.message}</p>
            </div>`
    }
  </section>`;
}

/** The failed activation: what happened, and the forced activation as a confirmed, CSRF-protected POST. */
function refusal(config: AiConfigView, csrf: string, text: string): SafeHtml {
  return html`<div class="notice notice-bad" role="alert">
    <p>${text} See the test result below, fix the settings, or activate it anyway.</p>
    <form
      method="post"
      action="/admin/ai-configs/${config.id}/activate"
      class="inline"
      data-confirm='Activate "${config.name}" although its live test failed? Users may get apologies instead of answers.'
    >
      ${csrfField(csrf)}<input type="hidden" name="force" value="on" />
      <button type="submit" class="button button-danger">Activate anyway</button>
    </form>
  </div>`;
}

export function aiConfigFormPage(
  input: Frame & {
    config?: AiConfigView;
    form?: FormValues | undefined;
    error?: string | undefined;
    test?: AiTestResult | undefined;
    prompt: string;
    saved?: boolean;
    /** Activation was refused because the live test failed: what happened, shown with "Activate anyway". */
    refused?: string | undefined;
  },
): SafeHtml {
  const c = input.config;
  const csrf = input.session.csrfToken;
  const v: FormValues = input.form ?? {
    name: c?.name ?? '',
    provider: c?.provider ?? 'openrouter',
    model: c?.model ?? '',
    baseUrl: c?.baseUrl ?? '',
    systemPrompt: c?.systemPrompt ?? '',
    temperature: c?.temperature === null || c?.temperature === undefined ? '' : String(c.temperature),
    maxTokens: c?.maxTokens === null || c?.maxTokens === undefined ? '' : String(c.maxTokens),
    vision: c?.vision === true ? 'on' : c?.vision === false ? 'off' : 'default',
    voiceAnswers: c?.voiceAnswers ?? false,
    voice: c?.voice ?? '',
    activate: false,
    clearKey: false,
  };
  const title = c ? c.name : 'New AI configuration';
  const keyHint = c
    ? c.apiKeyMasked
      ? html`Stored key: <code>${c.apiKeyMasked}</code>. Leave empty to keep it.`
      : 'No key stored. Needed for OpenRouter, OpenAI and Anthropic.'
    : 'Stored encrypted; shown only masked after saving. Optional for local OpenAI-compatible servers.';
  return layout(
    { title, section: 'ai-configs', ...input },
    html`<p class="breadcrumb"><a href="/admin/ai-configs">← AI configurations</a></p>
      <div class="page-head">
        <h1>${title}</h1>
        ${c ? html`<p class="muted">${c.isActive ? badge('active', 'good') : badge('inactive')} updated ${time(c.updatedAt)}</p>` : ''}
      </div>
      ${input.saved ? notice('Saved. Workers use the change within seconds if this configuration is active.') : ''}
      ${problems(input.error)} ${c && input.refused ? refusal(c, csrf, input.refused) : ''}
      <div class="${c ? 'grid-2' : 'narrow'}">
        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <form
            method="post"
            action="${c ? `/admin/ai-configs/${c.id}` : '/admin/ai-configs'}"
            class="form"
            autocomplete="off"
          >
            ${csrfField(csrf)}
            ${field('name', 'Name', html`<input id="name" name="name" required maxlength="100" value="${v.name}" />`)}
            ${field(
              'provider',
              'Provider',
              html`<select id="provider" name="provider">
                ${AI_CONFIG_PROVIDERS.map((p) => html`<option value="${p}" ${p === v.provider ? 'selected' : ''}>${p}</option>`)}
              </select>`,
            )}
            ${field(
              'model',
              'Model',
              html`<input
                id="model"
                name="model"
                required
                maxlength="200"
                value="${v.model}"
                aria-describedby="model-hint"
              />`,
              'e.g. openai/gpt-4o-mini on OpenRouter, gpt-4o-mini on OpenAI, claude-sonnet-4-6 on Anthropic.',
            )}
            ${field('apiKey', 'API key', html`<input id="apiKey" name="apiKey" type="password" autocomplete="new-password" spellcheck="false" aria-describedby="apiKey-hint" />`, keyHint)}
            ${c?.apiKeyMasked ? html`<div class="check"><input type="checkbox" id="clearKey" name="clearKey" ${v.clearKey ? 'checked' : ''} /><label for="clearKey">Remove the stored key</label></div>` : ''}
            ${field(
              'baseUrl',
              'Base URL',
              html`<input
                id="baseUrl"
                name="baseUrl"
                type="url"
                value="${v.baseUrl}"
                placeholder="https://…/v1"
                aria-describedby="baseUrl-hint"
              />`,
              'Optional; required for openai-compatible (Ollama, vLLM, LiteLLM).',
            )}
            ${field(
              'systemPrompt',
              'System prompt',
              html`<textarea
                id="systemPrompt"
                name="systemPrompt"
                rows="4"
                aria-describedby="systemPrompt-hint"
              >
${v.systemPrompt}</textarea>`,
              "Empty: the environment's SYSTEM_PROMPT.",
            )}
            <div class="field-row">
              ${field('temperature', 'Temperature', html`<input id="temperature" name="temperature" inputmode="decimal" value="${v.temperature}" placeholder="0.7" />`)}
              ${field('maxTokens', 'Max tokens', html`<input id="maxTokens" name="maxTokens" inputmode="numeric" value="${v.maxTokens}" placeholder="1024" />`)}
            </div>
            ${field(
              'vision',
              'Images',
              html`<select id="vision" name="vision" aria-describedby="vision-hint">
                ${[
                  ['default', 'Decide from the model name (well-known vision models)'],
                  ['on', 'The model sees images'],
                  ['off', 'The model cannot see images'],
                ].map(
                  ([value, label]) =>
                    html`<option value="${value}" ${value === v.vision ? 'selected' : ''}>${label}</option>`,
                )}
              </select>`,
              'Photos go to a model that sees images; without vision, a photo without text gets a polite notice.',
            )}
            <div class="check">
              <input
                type="checkbox"
                id="voiceAnswers"
                name="voiceAnswers"
                ${v.voiceAnswers ? 'checked' : ''}
              /><label for="voiceAnswers">Answer voice notes with a voice note too</label>
            </div>
            ${field('voice', 'Voice', html`<input id="voice" name="voice" maxlength="100" value="${v.voice}" placeholder="alloy" aria-describedby="voice-hint" />`, "Empty: the server's SPEECH_VOICE.")}
            ${c?.isActive ? '' : html`<div class="check"><input type="checkbox" id="activate" name="activate" ${v.activate ? 'checked' : ''} /><label for="activate">Make this the active configuration</label></div>`}
            <div class="form-actions">
              <button type="submit" class="button button-primary">
                ${c ? 'Save changes' : 'Create configuration'}
              </button>
              <a class="button button-secondary" href="/admin/ai-configs">Cancel</a>
            </div>
          </form>
        </section>
        ${
          c
            ? html`<div class="stack">
                ${testPanel(c, csrf, input.prompt, input.test)}
                <section class="card" aria-labelledby="state-title">
                  <h2 id="state-title">State</h2>
                  <div class="row-actions">
                    ${
                      c.isActive
                        ? postButton(
                            `/admin/ai-configs/${c.id}/deactivate`,
                            csrf,
                            'Deactivate',
                            'button-secondary',
                          )
                        : postButton(`/admin/ai-configs/${c.id}/activate`, csrf, 'Activate', 'button-primary')
                    }
                    ${postButton(
                      `/admin/ai-configs/${c.id}/delete`,
                      csrf,
                      'Delete',
                      'button-danger',
                      `Delete the configuration "${c.name}"?${c.isActive ? ' The bot goes back to the environment settings.' : ''}`,
                    )}
                  </div>
                </section>
              </div>`
            : ''
        }
      </div>`,
  );
}
