/**
 * The OpenAI SDK client the audio endpoints share (speech and transcription): one call per job, no SDK retries,
 * and the error context that names the endpoint and keeps the key out of messages. The chat adapter builds its
 * own (openai-compatible.ts): it adds the lean fetch and provider headers that file uploads do not want.
 */
import OpenAI from 'openai';
import type { AiErrorContext } from './errors.js';

export interface AudioClientSettings {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

/** `purpose` names the endpoint in error messages: "speech", "transcription". */
export function createAudioClient(
  settings: AudioClientSettings,
  purpose: string,
): { client: OpenAI; context: AiErrorContext } {
  const client = new OpenAI({
    apiKey: settings.apiKey ?? 'not-needed',
    baseURL: settings.baseUrl,
    // Our queue retries with backoff; SDK retries inside that would multiply the time a job can take.
    maxRetries: 0,
    timeout: settings.timeoutMs,
    // Explicit nulls so the SDK does not pick up OPENAI_* variables behind the config's back.
    organization: null,
    project: null,
  });
  const context = {
    provider: `${purpose} (${new URL(settings.baseUrl).host})`,
    timeoutMs: settings.timeoutMs,
    secrets: settings.apiKey ? [settings.apiKey] : [],
  };
  return { client, context };
}
