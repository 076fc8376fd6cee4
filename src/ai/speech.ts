/**
 * Voice answers (issue #15): text to speech through an OpenAI-compatible `POST /v1/audio/speech` (JSON `{model,
 * input, voice, response_format}`; the answer is the audio itself). Opus in Ogg is what WhatsApp plays as a voice
 * note, on Twilio and on Meta alike. Failures become the same AppError kinds as chat calls (ai/errors.ts).
 */
import type { SpeechSynthesizer } from '../ports.js';
import { createAudioClient } from './audio-client.js';
import { toAiError } from './errors.js';

export interface SpeechSettings {
  /** Without a trailing slash, ending in /v1 like the chat providers' (https://api.openai.com/v1). */
  baseUrl: string;
  apiKey: string | undefined;
  /** gpt-4o-mini-tts unless SPEECH_MODEL says otherwise. */
  model: string;
  /** SPEECH_VOICE (alloy): the voice when the AI configuration names none. */
  voice: string;
  timeoutMs: number;
}

/** OpenAI's limit for one request's input. */
export const MAX_SPEECH_INPUT = 4096;

export function createSpeechSynthesizer(settings: SpeechSettings): SpeechSynthesizer {
  const { client, context } = createAudioClient(settings, 'speech');
  return {
    model: settings.model,
    voice: settings.voice,
    async synthesize(text, voice, signal) {
      try {
        const response = await client.audio.speech.create(
          {
            model: settings.model,
            input: Array.from(text).slice(0, MAX_SPEECH_INPUT).join(''),
            voice: voice ?? settings.voice,
            response_format: 'opus',
          },
          { signal },
        );
        return { bytes: Buffer.from(await response.arrayBuffer()), contentType: 'audio/ogg' };
      } catch (error) {
        throw toAiError(error, context);
      }
    },
  };
}
