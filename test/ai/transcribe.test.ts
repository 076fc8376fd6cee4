/**
 * Voice-note transcription through the official OpenAI SDK against a fake `POST /v1/audio/transcriptions` on
 * 127.0.0.1 that reads the multipart body the way OpenAI does (file + model) and answers `{"text": …}`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../src/ai/transcribe.js';
import { loadConfig } from '../../src/config/load.js';
import { multipartParts } from '../fakes/transcriptions.js';
import { catchAppError } from './catch-app-error.js';

interface Upload {
  authorization: string | undefined;
  model: string;
  fileName: string;
  fileType: string;
  bytes: Buffer;
}

let server: http.Server;
let baseUrl: string;
const uploads: Upload[] = [];
let answer: 'text' | 'unauthorized' | 'overloaded' | 'hang' = 'text';

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      (() => {
        if (request.method !== 'POST' || request.url !== '/v1/audio/transcriptions') {
          response.writeHead(404).end();
          return;
        }
        if (answer === 'hang') return;
        if (answer === 'unauthorized') {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end('{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}');
          return;
        }
        if (answer === 'overloaded') {
          response.writeHead(503, { 'content-type': 'application/json' });
          response.end('{"error":{"message":"overloaded","type":"server_error"}}');
          return;
        }
        const parts = multipartParts(request.headers['content-type'] ?? '', Buffer.concat(chunks));
        const file = parts.get('file');
        uploads.push({
          authorization: request.headers.authorization,
          model: parts.get('model')?.body.toString() ?? '',
          fileName: file?.fileName ?? '',
          fileType: file?.type ?? '',
          bytes: file?.body ?? Buffer.alloc(0),
        });
        response.writeHead(200, { 'content-type': 'application/json' });
        // whisper-1's JSON answer says how many seconds it billed.
        response.end(
          JSON.stringify({
            text: ' Can I book a table for two tonight? ',
            usage: { type: 'duration', seconds: 4 },
          }),
        );
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const voiceNote = { bytes: Buffer.from('OggS voice bytes'), contentType: 'audio/ogg' };

describe('createTranscriber', () => {
  it('uploads the voice note as a named file with the model, and returns the trimmed text', async () => {
    answer = 'text';
    const transcriber = createTranscriber({
      baseUrl,
      apiKey: 'sk-test',
      model: 'whisper-1',
      timeoutMs: 5000,
    });
    expect(await transcriber.transcribe(voiceNote)).toEqual({
      text: 'Can I book a table for two tonight?',
      seconds: 4,
      secondsEstimated: false,
    });
    expect(uploads.at(-1)).toEqual({
      authorization: 'Bearer sk-test',
      model: 'whisper-1',
      fileName: 'voice-note.ogg',
      fileType: 'audio/ogg',
      bytes: voiceNote.bytes,
    });
  });

  it('fails with the AppError kinds of chat calls: auth, unavailable, timeout', async () => {
    const transcriber = createTranscriber({
      baseUrl,
      apiKey: 'sk-wrong',
      model: 'whisper-1',
      timeoutMs: 300,
    });
    answer = 'unauthorized';
    expect((await catchAppError(transcriber.transcribe(voiceNote))).kind).toBe('ai_auth');
    answer = 'overloaded';
    const overloaded = await catchAppError(transcriber.transcribe(voiceNote));
    expect(overloaded.kind).toBe('ai_unavailable');
    expect(overloaded.retryable).toBe(true);
    answer = 'hang';
    expect((await catchAppError(transcriber.transcribe(voiceNote))).kind).toBe('ai_timeout');
  });
});

describe('transcription settings', () => {
  it("default to the OpenAI(-compatible) provider's endpoint and key, else nothing", () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-openai' }).transcription).toMatchObject({
      baseUrl: 'https://api.openai.com/v1',
      apiKey: 'sk-openai',
      model: 'whisper-1',
    });
    expect(
      loadConfig({
        AI_PROVIDER: 'openai-compatible',
        AI_BASE_URL: 'http://127.0.0.1:11434/v1/',
        AI_MODEL: 'llama3',
      }).transcription,
    ).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1' });
    // OpenRouter and Anthropic serve no transcriptions; offline has nothing.
    expect(loadConfig({ OPENROUTER_API_KEY: 'sk-or' }).transcription).toBeNull();
    expect(loadConfig({}).transcription).toBeNull();
    expect(
      loadConfig({
        OPENROUTER_API_KEY: 'sk-or',
        TRANSCRIPTION_BASE_URL: 'https://api.groq.com/openai/v1',
        TRANSCRIPTION_API_KEY: 'gsk-key',
        TRANSCRIPTION_MODEL: 'whisper-large-v3',
      }).transcription,
    ).toMatchObject({
      baseUrl: 'https://api.groq.com/openai/v1',
      apiKey: 'gsk-key',
      model: 'whisper-large-v3',
    });
  });
});
