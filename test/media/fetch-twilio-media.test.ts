/**
 * Twilio's media as Twilio serves them: MediaUrl on the API host behind Basic auth, answered by a 302 to a CDN
 * (another origin here) that serves the bytes. Real sockets on 127.0.0.1 on both sides.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTwilioMedia, MediaRefused } from '../../src/media/fetch-twilio-media.js';

const SID = 'AC' + 'a'.repeat(32);
const TOKEN = 'twilio-auth-token';
const voiceNote = Buffer.from('OggS fake opus bytes');

interface Seen {
  host: string;
  path: string;
  authorization: string | undefined;
}

let api: http.Server;
let cdn: http.Server;
let apiBase: string;
let cdnBase: string;
const seen: Seen[] = [];

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

beforeAll(async () => {
  cdn = http.createServer((request, response) => {
    seen.push({ host: 'cdn', path: request.url ?? '', authorization: request.headers.authorization });
    if (request.url === '/voice.ogg') {
      response.writeHead(200, {
        'content-type': 'audio/ogg; codecs=opus',
        'content-length': voiceNote.length,
      });
      return response.end(voiceNote);
    }
    if (request.url === '/huge-chunked') {
      // No Content-Length: the limit must hold while reading.
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      response.write(Buffer.alloc(4096, 1));
      return response.end(Buffer.alloc(4096, 1));
    }
    if (request.url === '/program.exe') {
      response.writeHead(200, { 'content-type': 'application/x-msdownload' });
      return response.end('MZ');
    }
    if (request.url === '/hang') return; // never answers
    response.writeHead(404).end();
  });
  cdnBase = await listen(cdn);
  api = http.createServer((request, response) => {
    seen.push({ host: 'api', path: request.url ?? '', authorization: request.headers.authorization });
    const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'content-type': 'application/json' });
      return response.end('{"code":20003,"message":"Authenticate"}');
    }
    const media = /^\/2010-04-01\/Accounts\/AC\w+\/Messages\/MM\w+\/Media\/(\w+)$/.exec(
      request.url ?? '',
    )?.[1];
    const target: Record<string, string> = {
      ME1: `${cdnBase}/voice.ogg`,
      ME2: `${cdnBase}/huge-chunked`,
      ME3: `${cdnBase}/program.exe`,
      ME4: `${cdnBase}/hang`,
      ME5: `${cdnBase}/deleted`,
      ME6: '/2010-04-01/Accounts/ACx/Messages/MMx/Media/ME6', // loops on itself
    };
    if (media === 'BIG') {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 1_000_000 });
      return response.end(Buffer.alloc(1_000_000));
    }
    if (media && target[media]) {
      response.writeHead(302, { location: target[media] });
      return response.end();
    }
    response.writeHead(404).end();
  });
  apiBase = await listen(api);
});

afterAll(async () => {
  for (const server of [api, cdn]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const mediaUrl = (id: string) =>
  `${apiBase}/2010-04-01/Accounts/${SID}/Messages/MM${'1'.repeat(32)}/Media/${id}`;
const source = () => ({ apiBaseUrl: apiBase, accountSid: SID, authToken: TOKEN });
const limits = { maxBytes: 5000, timeoutMs: 2000 };

describe('fetchTwilioMedia', () => {
  it('follows the redirect to the CDN, with the credentials sent to Twilio only', async () => {
    seen.length = 0;
    const media = await fetchTwilioMedia(mediaUrl('ME1'), source(), limits);
    expect(media).toEqual({ bytes: voiceNote, contentType: 'audio/ogg' });
    expect(seen.map((s) => [s.host, s.authorization === undefined])).toEqual([
      ['api', false],
      ['cdn', true],
    ]);
  });

  it('does not fetch a URL on another host at all', async () => {
    seen.length = 0;
    const refused = await fetchTwilioMedia(`${cdnBase}/voice.ogg`, source(), limits).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MediaRefused);
    expect((refused as MediaRefused).reason).toBe('foreign_host');
    await expect(
      fetchTwilioMedia('http://169.254.169.254/latest/meta-data', source(), limits),
    ).rejects.toThrow(/not on/);
    expect(seen).toEqual([]);
  });

  it('refuses what is too large, by its Content-Length or while reading it', async () => {
    for (const id of ['BIG', 'ME2']) {
      const refused = await fetchTwilioMedia(mediaUrl(id), source(), { ...limits, maxBytes: 6000 }).catch(
        (e: unknown) => e,
      );
      expect((refused as MediaRefused).reason).toBe('too_large');
    }
  });

  it('refuses a content type WhatsApp users do not send', async () => {
    const refused = await fetchTwilioMedia(mediaUrl('ME3'), source(), limits).catch((e: unknown) => e);
    expect((refused as MediaRefused).reason).toBe('type_not_allowed');
    expect((refused as Error).message).toContain('application/x-msdownload');
  });

  it('says the media is gone on a 404, and fails (retryably) on wrong credentials', async () => {
    expect(
      ((await fetchTwilioMedia(mediaUrl('ME5'), source(), limits).catch((e: unknown) => e)) as MediaRefused)
        .reason,
    ).toBe('gone');
    const denied = await fetchTwilioMedia(mediaUrl('ME1'), { ...source(), authToken: 'wrong' }, limits).catch(
      (e: unknown) => e,
    );
    expect(denied).not.toBeInstanceOf(MediaRefused);
    expect((denied as Error).message).toContain('HTTP 401');
  });

  it('gives up on a server that never answers, and on a redirect loop', async () => {
    await expect(
      fetchTwilioMedia(mediaUrl('ME4'), source(), { ...limits, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
    await expect(fetchTwilioMedia(mediaUrl('ME6'), source(), limits)).rejects.toThrow(/redirects/);
  });
});
