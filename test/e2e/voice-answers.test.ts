/**
 * Voice answers (issue #15), with real processes: a voice note comes in through the Twilio webhook, the active AI
 * configuration has voice_answers on, the reply's text is spoken by a fake OpenAI-compatible speech server, and
 * the fake Twilio receives the text and then one more message whose MediaUrl is a signed URL of ours: fetching it
 * gives the audio; a tampered or expired one is refused with 403.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionSecretFrom } from '../../src/admin/settings.js';
import { mediaUrlKey, signedMediaPath } from '../../src/security/media-url.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { inboundParams } from '../helpers/twilio.js';

const SPOKEN = Buffer.from('OggS spoken answer bytes');

let app: TestApp;
let speech: ScriptedServer;
let mediaDir: string;
const speechRequests: Array<{
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}> = [];

beforeAll(async () => {
  mediaDir = mkdtempSync(join(tmpdir(), 'voice-answers-'));
  speech = await startScriptedServer((request, response, body) => {
    speechRequests.push({
      path: request.url ?? '',
      authorization: request.headers.authorization,
      body: JSON.parse(body) as Record<string, unknown>,
    });
    if (request.method !== 'POST' || request.url !== '/v1/audio/speech') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no route"}}');
      return;
    }
    response.writeHead(200, { 'content-type': 'audio/ogg' }).end(SPOKEN);
  });
  app = await startTestApp({
    MEDIA_DIR: mediaDir,
    SPEECH_BASE_URL: `${speech.origin}/v1`,
    SPEECH_API_KEY: 'sk-speech',
  });
  await app.query(
    `insert into ai_configurations (name, provider, model, base_url, is_active, voice_answers, voice)
     values ('spoken', 'openai-compatible', 'gpt-test', $1, true, true, 'verse')`,
    [app.llm.openaiBaseUrl],
  );
});
afterAll(async () => {
  await app.stop();
  await speech.close();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('voice answers', () => {
  it('answers a voice note with the text and then a voice note by a signed URL of ours, spoken once', async () => {
    const from = 'whatsapp:+14155550199';
    const response = await app.postSigned(
      '/api/whatsapp/webhook/',
      inboundParams({
        From: from,
        To: BUSINESS_NUMBER,
        Body: '',
        NumMedia: '1',
        MessageType: 'audio',
        // Served by the fake Twilio (Basic auth, then a redirect): the worker's media stage downloads and
        // transcribes it before the model answers.
        MediaUrl0: app.twilio.addMedia({ bytes: Buffer.from('OggS voice note'), contentType: 'audio/ogg' }),
        MediaContentType0: 'audio/ogg',
      }),
    );
    expect(response.status).toBe(200);
    const sent = await eventually(
      'the text and the voice answer',
      () => {
        const toUser = app.twilio.sent.filter((m) => m.to === from);
        return Promise.resolve(toUser.length >= 2 ? toUser : undefined);
      },
      20_000,
    );
    const [text, voice] = sent;
    expect(text!.body).not.toBe('');
    expect(text!.mediaUrls).toBeUndefined();
    expect(voice!.mediaUrls).toHaveLength(1);
    const mediaUrl = voice!.mediaUrls![0]!;
    expect(mediaUrl.startsWith(`${app.url}/media/`)).toBe(true);

    expect(speechRequests).toHaveLength(1);
    expect(speechRequests[0]).toMatchObject({
      path: '/v1/audio/speech',
      authorization: 'Bearer sk-speech',
      body: { model: 'gpt-4o-mini-tts', input: text!.body, voice: 'verse', response_format: 'opus' },
    });

    const audio = await fetch(mediaUrl);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/ogg');
    expect(audio.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await audio.arrayBuffer())).toEqual(SPOKEN);

    // The voice part is one more part of the reply, stored once, and the text stays the reply's content.
    const parts = await app.query<{ part_index: number; payload: unknown; body: string; status: string }>(
      `select d.part_index, d.payload, d.body, d.status from deliveries d join messages m on m.id = d.message_id
       join conversations c on c.id = m.conversation_id where c.user_address = $1 order by d.part_index`,
      [from],
    );
    expect(parts.filter((p) => p.payload !== null)).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ body: '' });
  });

  it('refuses a tampered, an expired and an unsigned media URL with 403', async () => {
    const voice = app.twilio.sent.find((m) => m.mediaUrls?.length)!;
    const url = new URL(voice.mediaUrls![0]!);
    const signature = url.searchParams.get('signature')!;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const tampered = new URL(url);
    tampered.searchParams.set('signature', flipped);
    expect((await fetch(tampered)).status).toBe(403);
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expect((await fetch(later)).status).toBe(403);
    expect((await fetch(`${app.url}${url.pathname}`)).status).toBe(403);
    const key = url.pathname.slice('/media/'.length);
    const expired = signedMediaPath(
      mediaUrlKey(sessionSecretFrom(app.config)),
      key,
      Math.floor(Date.now() / 1000) - 1,
    );
    expect((await fetch(`${app.url}${expired}`)).status).toBe(403);
    // The same key signed for later is served: the refusal above was the expiry, not the key.
    const fresh = signedMediaPath(
      mediaUrlKey(sessionSecretFrom(app.config)),
      key,
      Math.floor(Date.now() / 1000) + 60,
    );
    expect((await fetch(`${app.url}${fresh}`)).status).toBe(200);
  });
});
