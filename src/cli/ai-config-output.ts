/** How AI configurations are shown by the ai-config commands: a table for people, JSON for scripts. */
import { visionByDefault } from '../ai/vision-models.js';
import type { AiConfigView } from '../db/ai-configs.js';

export function viewJson(view: AiConfigView): Record<string, unknown> {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

export function printTable(views: AiConfigView[]): void {
  const header = [
    '',
    'NAME',
    'PROVIDER',
    'MODEL',
    'API KEY',
    'BASE URL',
    'TEMP',
    'MAX TOKENS',
    'VISION',
    'VOICE ANSWERS',
    'UPDATED',
  ];
  const rows = views.map((v) => [
    v.isActive ? '*' : '',
    v.name,
    v.provider,
    v.model,
    v.apiKeyMasked ?? '—',
    v.baseUrl ?? '(provider default)',
    v.temperature === null ? '(env)' : String(v.temperature),
    v.maxTokens === null ? '(env)' : String(v.maxTokens),
    visionLabel(v),
    voiceLabel(v),
    v.updatedAt.toISOString().slice(0, 19).replace('T', ' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
  console.log('\n* = active: running workers use it instead of the environment settings (within seconds).');
}

/** One line about one configuration, for create/update/activate results. */
export function summary(view: AiConfigView): string {
  const key = view.apiKeyMasked ? `key ${view.apiKeyMasked}` : 'no key';
  return `"${view.name}": ${view.provider} ${view.model}, ${key}, vision ${visionLabel(view)}${view.isActive ? ', ACTIVE' : ''}`;
}

/** `yes`, `no`, or `default (yes)` when the table of well-known vision models decides. */
export function visionLabel(view: Pick<AiConfigView, 'vision' | 'model'>): string {
  if (view.vision !== null) return view.vision ? 'yes' : 'no';
  return `default (${visionByDefault(view.model) ? 'yes' : 'no'})`;
}

/** `off`, `on (nova)`, or `on (SPEECH_VOICE)` when no voice is named. */
export function voiceLabel(view: Pick<AiConfigView, 'voiceAnswers' | 'voice'>): string {
  if (!view.voiceAnswers) return view.voice === null ? 'off' : `off (voice ${view.voice})`;
  return `on (${view.voice ?? 'SPEECH_VOICE'})`;
}

/** Every field of one configuration, one per line (`chatbot ai-config show`). */
export function printDetails(view: AiConfigView): void {
  const rows: Array<[string, string]> = [
    ['name', view.name],
    ['status', view.isActive ? 'ACTIVE' : 'inactive'],
    ['provider', view.provider],
    ['model', view.model],
    ['api key', view.apiKeyMasked ?? '—'],
    ['base URL', view.baseUrl ?? '(provider default)'],
    ['system prompt', view.systemPrompt === null ? '(env)' : view.systemPrompt],
    ['temperature', view.temperature === null ? '(env)' : String(view.temperature)],
    ['max tokens', view.maxTokens === null ? '(env)' : String(view.maxTokens)],
    ['vision', visionLabel(view)],
    ['voice answers', voiceLabel(view)],
    ['updated', view.updatedAt.toISOString().slice(0, 19).replace('T', ' ')],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${`${label}:`.padEnd(width + 2)}${value}`);
}
