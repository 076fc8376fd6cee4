/** How AI configurations are shown by the ai-config commands: a table for people, JSON for scripts. */
import type { AiConfigView } from '../db/ai-configs.js';

export function viewJson(view: AiConfigView): Record<string, unknown> {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

export function printTable(views: AiConfigView[]): void {
  const header = ['', 'NAME', 'PROVIDER', 'MODEL', 'API KEY', 'BASE URL', 'TEMP', 'MAX TOKENS', 'UPDATED'];
  const rows = views.map((v) => [
    v.isActive ? '*' : '',
    v.name,
    v.provider,
    v.model,
    v.apiKeyMasked ?? '—',
    v.baseUrl ?? '(provider default)',
    v.temperature === null ? '(env)' : String(v.temperature),
    v.maxTokens === null ? '(env)' : String(v.maxTokens),
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
  return `"${view.name}": ${view.provider} ${view.model}, ${key}${view.isActive ? ', ACTIVE' : ''}`;
}
