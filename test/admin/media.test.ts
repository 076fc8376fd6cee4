/**
 * The admin's media views (issue #15): a stored file is served behind the login with its recorded type, never
 * sniffed, a document as a download; the thread shows pictures, plays sound, links documents, and shows a voice
 * note's transcript and why a file was refused. The worker's media stage is stood in for by writing what it
 * records (the payload's `stored`, `transcript`, `refused`) and the bytes into the app's real media store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { adminClient, type AdminClient } from './client.js';

const PASSWORD = 'correct horse battery';
const VOICE = Buffer.from('OggS fake voice note bytes');
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
const PDF = Buffer.from('%PDF-1.4 <html><script>alert(1)</script>');

let app: TestApp;
let client: AdminClient;
let mediaDir: string;
let messageId: string;
let conversationId: string;

beforeAll(async () => {
  mediaDir = mkdtempSync(join(tmpdir(), 'admin-media-'));
  app = await startTestApp({ MEDIA_DIR: mediaDir });
  await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
  const from = 'whatsapp:+14155550177';
  const response = await app.postSigned(
    '/api/whatsapp/webhook/',
    inboundParams({
      From: from,
      To: BUSINESS_NUMBER,
      Body: '',
      NumMedia: '1',
      MessageType: 'audio',
      MediaUrl0: `${app.twilio.url}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1`,
      MediaContentType0: 'audio/ogg',
    }),
  );
  expect(response.status).toBe(200);
  // Settled first: the worker's media stage writes the payload back while it works on the message.
  const row = await eventually('the inbound message, settled', async () => {
    const rows = await app.query<{ id: string; conversation_id: string }>(
      `select m.id, m.conversation_id from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' and m.processing_status <> 'pending'`,
      [from],
    );
    return rows[0];
  });
  messageId = row.id;
  conversationId = row.conversation_id;
  const media = app.running.composed.deps.media;
  await media.put(`${messageId}/0`, VOICE, 'audio/ogg');
  await media.put(`${messageId}/1`, PHOTO, 'image/jpeg');
  await media.put(`${messageId}/2`, PDF, 'application/pdf');
  const stored = (index: number, sizeBytes: number, contentType: string) => ({
    key: `${messageId}/${index}`,
    sizeBytes,
    contentType,
  });
  const content = {
    type: 'media',
    items: [
      {
        kind: 'voice',
        contentType: 'audio/ogg',
        reference: 'https://api.twilio.com/x/0',
        stored: stored(0, VOICE.length, 'audio/ogg'),
        transcript: 'Is the <b>shop</b> open on Sunday?',
      },
      {
        kind: 'image',
        contentType: 'image/jpeg',
        reference: 'https://api.twilio.com/x/1',
        stored: stored(1, PHOTO.length, 'image/jpeg'),
      },
      {
        kind: 'document',
        contentType: 'application/pdf',
        filename: 'menu "2026".pdf',
        reference: 'https://api.twilio.com/x/2',
        stored: stored(2, PDF.length, 'application/pdf'),
      },
      {
        kind: 'video',
        contentType: 'video/mp4',
        reference: 'https://api.twilio.com/x/3',
        refused: 'too_large',
      },
    ],
  };
  await app.query('update messages set payload = $2::jsonb where id = $1', [
    messageId,
    JSON.stringify({ content, context: {} }),
  ]);
  client = adminClient(app.url);
  expect((await client.login('ada', PASSWORD)).status).toBe(303);
});

afterAll(async () => {
  await app.stop();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('GET /admin/media/<message id>/<index>', () => {
  it('sends a visitor without a session to the login page, file unseen', async () => {
    const anonymous = adminClient(app.url);
    const response = await anonymous.get(`/admin/media/${messageId}/0`);
    expect(response.status).toBe(303);
    expect(response.location).toBe(`/admin/login?next=${encodeURIComponent(`/admin/media/${messageId}/0`)}`);
    expect(response.body).not.toContain('fake voice note');
  });

  it('serves a voice note with its stored type, not sniffed, under a policy that runs nothing', async () => {
    const response = await fetch(`${app.url}/admin/media/${messageId}/0`, {
      headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/ogg');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(response.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(VOICE);
  });

  it('serves a document as a download, whatever it holds', async () => {
    const response = await client.get(`/admin/media/${messageId}/2`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="menu _2026_.pdf"; filename*=UTF-8''${encodeURIComponent('menu "2026".pdf')}`,
    );
  });

  it('answers 404 for an item that was not stored, an index no item has, and a malformed id', async () => {
    expect((await client.get(`/admin/media/${messageId}/3`)).status).toBe(404);
    expect((await client.get(`/admin/media/${messageId}/9`)).status).toBe(404);
    expect((await client.get('/admin/media/not-a-message/0')).status).toBe(404);
    expect((await client.get(`/admin/media/${conversationId}/0`)).status).toBe(404);
  });

  it('answers 404 once the bytes are gone from the store (erased), even though the payload names them', async () => {
    await app.running.composed.deps.media.put(`${messageId}/5`, PHOTO, 'image/jpeg');
    await app.running.composed.deps.media.removeMessages([messageId]);
    expect((await client.get(`/admin/media/${messageId}/1`)).status).toBe(404);
    await app.running.composed.deps.media.put(`${messageId}/0`, VOICE, 'audio/ogg');
    await app.running.composed.deps.media.put(`${messageId}/1`, PHOTO, 'image/jpeg');
    await app.running.composed.deps.media.put(`${messageId}/2`, PDF, 'application/pdf');
  });
});

describe('the conversation thread', () => {
  it('plays the voice note, shows the photo, links the document, and shows the transcript and the refusal, escaped', async () => {
    const page = await client.get(`/admin/conversations/${conversationId}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(
      new RegExp(
        `<audio class="attachment-audio" controls preload="none" src="/admin/media/${messageId}/0">`,
      ),
    );
    expect(page.body).toMatch(new RegExp(`<img class="attachment-image" src="/admin/media/${messageId}/1"`));
    expect(page.body).toMatch(
      new RegExp(`href="/admin/media/${messageId}/2" download\\s*>Download menu &quot;2026&quot;\\.pdf`),
    );
    expect(page.body).toContain('Is the &lt;b&gt;shop&lt;/b&gt; open on Sunday?');
    expect(page.body).not.toContain('<b>shop</b>');
    expect(page.body).toContain('Not downloaded: larger than the size limit (MEDIA_MAX_BYTES).');
    expect(page.body).not.toContain(`/admin/media/${messageId}/3`);
    // The page's policy lets the thread play our own audio.
    expect(page.headers.get('content-security-policy')).toContain("media-src 'self'");
  });
});
