/**
 * The simulator's attachments (issue #15), through the real app: an upload is capped and typed, kept in the media
 * store under a key of its own and accepted as an inbound media message naming it; the simulator channel's
 * fetchMedia reads it back like a Twilio MediaUrl; once the worker's media stage has recorded what it stored (stood
 * in for here by writing the payload and the bytes it would write), the thread shows the file and its transcript.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatEvent } from '../../../src/http/simulator/events.js';
import { MediaRefused } from '../../../src/media/fetch-twilio-media.js';
import type { MediaItem } from '../../../src/domain/content.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../../helpers/app.js';
import { inboundParams } from '../../helpers/twilio.js';

const MAX_BYTES = 4096;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const RECORDING = Buffer.from('\x1aE\xdf\xa3 webm opus recording');

let app: TestApp;
let mediaDir: string;

const newPhone = () => `+1415${randomInt(1_000_000, 9_999_999)}`;

function upload(query: Record<string, string>, body: Buffer | string, contentType: string) {
  return fetch(`${app.url}/simulator/api/media?${new URLSearchParams(query).toString()}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
}

async function storedPayload(messageId: string) {
  const [row] = await app.query<{
    payload: { content: { type: string; items: MediaItem[]; caption?: string } };
  }>('select payload from messages where id = $1', [messageId]);
  return row!.payload.content;
}

function simulator() {
  const channel = app.running.composed.deps.channelFor('simulator');
  if (!channel?.fetchMedia) throw new Error('the simulator channel has no fetchMedia');
  return channel as typeof channel & { fetchMedia: NonNullable<typeof channel.fetchMedia> };
}

beforeAll(async () => {
  mediaDir = mkdtempSync(join(tmpdir(), 'simulator-media-'));
  app = await startTestApp({
    SIMULATOR_ENABLED: 'true',
    MEDIA_DIR: mediaDir,
    MEDIA_MAX_BYTES: String(MAX_BYTES),
  });
});
afterAll(async () => {
  await app.stop();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('POST /simulator/api/media', () => {
  it('keeps a photo under a fresh key and accepts a media message naming it, with the caption and file name', async () => {
    const phone = newPhone();
    const response = await upload(
      { from: phone, profileName: 'Ada', caption: 'Is this the right part?', filename: 'part.png' },
      PNG,
      'image/png',
    );
    expect(response.status).toBe(202);
    const { messageId } = (await response.json()) as { messageId: string };
    const content = await storedPayload(messageId);
    expect(content.type).toBe('media');
    expect(content.caption).toBe('Is this the right part?');
    const [item] = content.items;
    expect(item).toMatchObject({
      kind: 'image',
      contentType: 'image/png',
      sizeBytes: PNG.length,
      filename: 'part.png',
    });
    expect(item!.reference).toMatch(/^simulator:sim-[0-9a-f]{24}\/0$/);
    const key = item!.reference.slice('simulator:'.length);
    expect(await app.running.composed.deps.media.get(key)).toEqual(PNG);

    // The worker's media stage reads it back through the channel, as it would a Twilio MediaUrl.
    const fetched = await simulator().fetchMedia(item!, 'whatsapp:simulator', {
      maxBytes: MAX_BYTES,
      timeoutMs: 1000,
    });
    expect(fetched.contentType).toBe('image/png');
    expect(fetched.bytes).toEqual(PNG);
    const [log] = await eventually('the log row', async () => {
      const rows = await app.query<{ body: Record<string, unknown>; response_status: number }>(
        `select body, response_status from webhook_logs where channel = 'simulator' and body->>'key' = $1`,
        [key],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(log).toMatchObject({ response_status: 202, body: { kind: 'image', sizeBytes: PNG.length } });
  });

  it('takes a recording made on the page as a voice note (WebM, as Chrome records)', async () => {
    const response = await upload({ from: newPhone(), voice: '1' }, RECORDING, 'audio/webm;codecs=opus');
    expect(response.status).toBe(202);
    const { messageId } = (await response.json()) as { messageId: string };
    const [item] = (await storedPayload(messageId)).items;
    expect(item).toMatchObject({ kind: 'voice', contentType: 'audio/webm' });
  });

  it('refuses a file over MEDIA_MAX_BYTES with 413 and a sentence naming the limit, storing no message', async () => {
    const phone = newPhone();
    const response = await upload({ from: phone }, Buffer.alloc(MAX_BYTES + 1, 7), 'image/jpeg');
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toBe(
      `the file is ${MAX_BYTES + 1} bytes; at most ${MAX_BYTES} (MEDIA_MAX_BYTES)`,
    );
    const rows = await app.query('select 1 from conversations where user_address = $1', [
      `whatsapp:${phone}`,
    ]);
    expect(rows).toHaveLength(0);
  });

  it('refuses types WhatsApp does not carry, an empty file and a bad number with 400 and what to fix', async () => {
    const html = await upload({ from: newPhone() }, '<script>alert(1)</script>', 'text/html');
    expect(html.status).toBe(400);
    expect(((await html.json()) as { message: string }).message).toMatch(
      /files of type text\/html cannot be sent/,
    );
    const empty = await upload({ from: newPhone() }, Buffer.alloc(0), 'image/png');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toBe('the file is empty');
    const badPhone = await upload({ from: '12' }, PNG, 'image/png');
    expect(badPhone.status).toBe(400);
  });
});

describe('the simulator channel fetchMedia', () => {
  const item = (reference: string): MediaItem => ({ kind: 'image', contentType: 'image/png', reference });
  const limits = { maxBytes: MAX_BYTES, timeoutMs: 1000 };

  it('refuses a reference that is not a simulator upload, a missing upload, and one over the limit', async () => {
    const foreign = simulator().fetchMedia(item('https://evil.example/x.png'), '', limits);
    await expect(foreign).rejects.toBeInstanceOf(MediaRefused);
    await expect(foreign).rejects.toMatchObject({ reason: 'foreign_host' });
    await expect(
      simulator().fetchMedia(item('simulator:../../etc/passwd'), '', limits),
    ).rejects.toMatchObject({
      reason: 'foreign_host',
    });
    await expect(
      simulator().fetchMedia(item('simulator:sim-000000000000000000000000/0'), '', limits),
    ).rejects.toMatchObject({
      reason: 'gone',
    });
    await app.running.composed.deps.media.put('sim-111111111111111111111111/0', PNG, 'image/png');
    await expect(
      simulator().fetchMedia(item('simulator:sim-111111111111111111111111/0'), '', {
        ...limits,
        maxBytes: 4,
      }),
    ).rejects.toMatchObject({ reason: 'too_large' });
  });
});

describe('the thread shows what the worker stored', () => {
  it("lists the stored file and the transcript, and serves the file to the page; never a Twilio conversation's", async () => {
    const phone = newPhone();
    app.llm.transcribeAs({ text: 'Do you open at nine?', seconds: 2 });
    const response = await upload({ from: phone, voice: '1' }, RECORDING, 'audio/webm');
    const { messageId } = (await response.json()) as { messageId: string };
    // The worker's media stage downloads the note from the store, transcribes it (the fake LLM's endpoint) and
    // records both in the message's payload.
    const key = `${messageId}/0`;
    await eventually('the transcript', async () => {
      const [stored] = (await storedPayload(messageId)).items;
      return stored?.transcript === 'Do you open at nine?' ? stored : undefined;
    });
    const thread = (await (
      await fetch(`${app.url}/simulator/api/conversations?address=${encodeURIComponent(phone)}`)
    ).json()) as { messages: Array<{ id: string; display?: { body: { kind: string; items: unknown[] } } }> };
    const shown = thread.messages.find((m) => m.id === messageId);
    expect(shown?.display?.body.items[0]).toMatchObject({
      kind: 'voice',
      label: 'Voice message',
      mediaKey: key,
      transcript: 'Do you open at nine?',
    });
    const file = await fetch(`${app.url}/simulator/api/media/${key}`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/webm');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(RECORDING);
    expect((await fetch(`${app.url}/simulator/api/media/${messageId}/1`)).status).toBe(404);

    // The same record on a Twilio conversation is not the simulator's to serve.
    const from = 'whatsapp:+14155550123';
    expect(
      (await app.postSigned('/api/whatsapp/webhook/', inboundParams({ From: from, To: BUSINESS_NUMBER })))
        .status,
    ).toBe(200);
    const twilioMessage = await eventually('the Twilio message', async () => {
      const rows = await app.query<{ id: string }>(
        `select m.id from messages m join conversations c on c.id = m.conversation_id
         where c.user_address = $1 and m.role = 'user'`,
        [from],
      );
      return rows[0]?.id;
    });
    const twilioKey = `${twilioMessage}/0`;
    await app.running.composed.deps.media.put(twilioKey, PNG, 'image/png');
    await app.query('update messages set payload = $2::jsonb where id = $1', [
      twilioMessage,
      JSON.stringify({
        content: {
          type: 'media',
          items: [
            {
              kind: 'image',
              contentType: 'image/png',
              reference: 'x',
              stored: { key: twilioKey, sizeBytes: PNG.length, contentType: 'image/png' },
            },
          ],
        },
        context: {},
      }),
    ]);
    expect((await fetch(`${app.url}/simulator/api/media/${twilioKey}`)).status).toBe(404);
  });

  it('a voice answer sent to the page carries what the page shows of it', () => {
    const event = formatEvent({
      type: 'message',
      message: {
        providerMessageId: 'SIMx',
        to: 'whatsapp:+14155550100',
        from: 'whatsapp:simulator',
        body: '',
        content: {
          type: 'media',
          items: [
            {
              kind: 'voice',
              contentType: 'audio/ogg',
              reference: 'https://bot.example/media/x',
              stored: { key: 'abc/0', sizeBytes: 3, contentType: 'audio/ogg' },
            },
          ],
        },
        sentAt: new Date(0),
        status: 'sent',
      },
    });
    const data = JSON.parse(/^data: (.*)$/m.exec(event)![1]!) as { display: { body: { items: unknown[] } } };
    expect(data.display.body.items[0]).toMatchObject({ kind: 'voice', mediaKey: 'abc/0' });
  });
});
