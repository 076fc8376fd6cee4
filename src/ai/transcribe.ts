/**
 * Voice notes to text through an OpenAI-compatible `POST /v1/audio/transcriptions` (multipart: `file`, `model`;
 * answer `{"text": …}`): OpenAI's Whisper, Groq, a local faster-whisper or whisper.cpp server. The official
 * SDK builds the multipart body; the platform's fetch sends it (a file upload, not the hot path the lean HTTP
 * client is for). Failures become the same AppError kinds as chat calls (ai/errors.ts), so the queue retries
 * what can be retried.
 */
import { toFile } from 'openai';
import type { Transcriber } from '../ports.js';
import { estimatedAudioSeconds, oggDurationSeconds } from '../media/audio-duration.js';
import { createAudioClient } from './audio-client.js';
import { toAiError } from './errors.js';

export interface TranscriptionSettings {
  /** Without a trailing slash, ending in /v1 like the chat providers' (https://api.openai.com/v1). */
  baseUrl: string;
  apiKey: string | undefined;
  /** whisper-1 unless TRANSCRIPTION_MODEL says otherwise. */
  model: string;
  timeoutMs: number;
}

export type { Transcriber, Transcript } from '../ports.js';

/** The file name tells servers the format (some ignore the part's content type). */
const EXTENSIONS: Record<string, string> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/wav': 'wav',
  'audio/webm': 'webm',
};

export function createTranscriber(settings: TranscriptionSettings): Transcriber {
  const { client, context } = createAudioClient(settings, 'transcription');
  return {
    model: settings.model,
    async transcribe(audio, signal) {
      const extension = EXTENSIONS[audio.contentType] ?? 'ogg';
      try {
        const file = await toFile(Buffer.from(audio.bytes), `voice-note.${extension}`, {
          type: audio.contentType,
        });
        const result = await client.audio.transcriptions.create(
          { file, model: settings.model, response_format: 'json' },
          { signal },
        );
        return { text: result.text.trim(), ...audioSeconds(result.usage, Buffer.from(audio.bytes)) };
      } catch (error) {
        throw toAiError(error, context);
      }
    },
  };
}

/**
 * Seconds of audio for the usage figures: whisper-1 reports what it billed; otherwise the Ogg file's own length;
 * otherwise an estimate from the size, marked as such.
 */
function audioSeconds(
  usage: { type: string; seconds?: number } | undefined,
  bytes: Buffer,
): { seconds: number; secondsEstimated: boolean } {
  if (usage?.type === 'duration' && typeof usage.seconds === 'number' && Number.isFinite(usage.seconds))
    return { seconds: usage.seconds, secondsEstimated: false };
  const measured = oggDurationSeconds(bytes);
  if (measured !== null) return { seconds: Math.round(measured * 10) / 10, secondsEstimated: false };
  return { seconds: estimatedAudioSeconds(bytes.length), secondsEstimated: true };
}
