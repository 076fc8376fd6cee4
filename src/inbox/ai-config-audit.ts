/**
 * What the audit log says about an AI configuration change, for the admin and the CLI alike: which one (its
 * name, provider and model) and which fields changed. Never a value of the key, and not the other fields' values
 * either: a base URL may carry credentials and a system prompt may be long.
 */
import type { AiConfigRow } from '../db/ai-configs.js';

const FIELDS = [
  'name',
  'provider',
  'model',
  'baseUrl',
  'systemPrompt',
  'temperature',
  'maxTokens',
  'inputPriceUsd',
  'outputPriceUsd',
  'vision',
  'voiceAnswers',
  'voice',
] as const;

export function aiConfigTarget(row: Pick<AiConfigRow, 'id'>): { type: 'ai-config'; id: string } {
  return { type: 'ai-config', id: row.id };
}

/** `{ name, provider, model, hasKey, vision, voiceAnswers }`, plus for an update `changed` (field names) and what became of the key. */
export function aiConfigAuditDetails(after: AiConfigRow, before?: AiConfigRow): Record<string, unknown> {
  const details: Record<string, unknown> = {
    name: after.name,
    provider: after.provider,
    model: after.model,
    hasKey: after.apiKeyEncrypted !== null,
    // Short switches, safe to show: null vision means the table of well-known vision models decides.
    vision: after.vision,
    voiceAnswers: after.voiceAnswers,
  };
  if (!before) return details;
  const changed: string[] = FIELDS.filter((field) => before[field] !== after[field]);
  if (before.apiKeyEncrypted !== after.apiKeyEncrypted) {
    changed.push('apiKey');
    details.apiKey =
      after.apiKeyEncrypted === null ? 'removed' : before.apiKeyEncrypted === null ? 'added' : 'replaced';
  }
  if (before.name !== after.name) details.previousName = before.name;
  details.changed = changed;
  return details;
}
