/**
 * Where media are kept and how big they may be: MEDIA_DIR on disk unless S3_BUCKET names a bucket.
 */
import type { SpeechSettings } from '../ai/speech.js';
import type { TranscriptionSettings } from '../ai/transcribe.js';
import type { S3Settings } from '../media/s3-store.js';
import type { AiSettings } from './load.js';
import type { Env } from './schema.js';

export interface MediaSettings {
  maxBytes: number;
  store: { kind: 'local'; dir: string } | ({ kind: 's3' } & S3Settings);
}

export function mediaSettings(env: Env, problems: string[]): MediaSettings {
  const maxBytes = env.MEDIA_MAX_BYTES;
  if (!env.S3_BUCKET) {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const)
      if (env[name]) problems.push(`${name}: set S3_BUCKET too (the bucket media go to)`);
    return { maxBytes, store: { kind: 'local', dir: env.MEDIA_DIR } };
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY))
    problems.push(
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both, or neither (the SDK then finds its own)',
    );
  return {
    maxBytes,
    store: {
      kind: 's3',
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE ?? env.S3_ENDPOINT !== undefined,
      prefix: env.S3_PREFIX,
    },
  };
}

/** OpenAI's and an OpenAI-compatible server's own endpoint serve transcriptions too; OpenRouter and Anthropic do not. */
const PROVIDERS_THAT_TRANSCRIBE = new Set(['openai', 'openai-compatible']);

/**
 * Where voice notes are transcribed: TRANSCRIPTION_BASE_URL (+ TRANSCRIPTION_API_KEY), else the chat provider's
 * endpoint and key when it serves transcriptions; null when nothing does (the user is told, not ignored).
 */
export function transcriptionSettings(env: Env, ai: AiSettings): TranscriptionSettings | null {
  const timeoutMs = ai.timeoutMs;
  if (env.TRANSCRIPTION_BASE_URL)
    return {
      baseUrl: env.TRANSCRIPTION_BASE_URL.replace(/\/+$/, ''),
      apiKey: env.TRANSCRIPTION_API_KEY,
      model: env.TRANSCRIPTION_MODEL,
      timeoutMs,
    };
  if (!PROVIDERS_THAT_TRANSCRIBE.has(ai.provider)) return null;
  return {
    baseUrl: (ai.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
    apiKey: env.TRANSCRIPTION_API_KEY ?? ai.apiKey,
    model: env.TRANSCRIPTION_MODEL,
    timeoutMs,
  };
}

/**
 * Where voice answers are spoken: SPEECH_BASE_URL (+ SPEECH_API_KEY), else the chat provider's endpoint and key when
 * it serves speech (the same providers as transcription); null when nothing does.
 */
export function speechSettings(env: Env, ai: AiSettings): SpeechSettings | null {
  const common = { model: env.SPEECH_MODEL, voice: env.SPEECH_VOICE, timeoutMs: ai.timeoutMs };
  if (env.SPEECH_BASE_URL)
    return { ...common, baseUrl: env.SPEECH_BASE_URL.replace(/\/+$/, ''), apiKey: env.SPEECH_API_KEY };
  if (!PROVIDERS_THAT_TRANSCRIBE.has(ai.provider)) return null;
  return {
    ...common,
    baseUrl: (ai.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
    apiKey: env.SPEECH_API_KEY ?? ai.apiKey,
  };
}
