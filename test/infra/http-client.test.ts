import http from 'node:http';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransportError, httpRequest } from '../../src/infra/http-client.js';
import { freePort } from '../helpers/tcp-proxy.js';
import {
  startScriptedServer,
  type ScriptedHandler,
  type ScriptedServer,
} from '../helpers/scripted-server.js';

let server: ScriptedServer;
let origin: string;
const silent: ScriptedHandler = (_request, response) => response.end();

beforeAll(async () => {
  server = await startScriptedServer(silent);
  origin = server.origin;
});
afterEach(() => {
  server.answer(silent);
});
afterAll(async () => {
  await server.close();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected the request to fail'),
    (error: unknown) => error,
  );
}

describe('httpRequest', () => {
  it('sends method, headers and body, and returns status, headers and the whole body', async () => {
    let seen: { method?: string; type?: string; length?: string; body?: string } = {};
    server.answer((request, response, body) => {
      seen = {
        method: request.method,
        type: request.headers['content-type'],
        length: request.headers['content-length'],
        body,
      };
      response.writeHead(201, 'Made', { 'x-one': 'a', 'set-cookie': ['s=1', 't=2'] });
      response.end('héllo');
    });
    const answer = await httpRequest({
      url: new URL(`${origin}/path?q=1`),
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'ünïcode',
    });
    expect(seen).toEqual({ method: 'POST', type: 'text/plain', length: '9', body: 'ünïcode' });
    expect(answer.status).toBe(201);
    expect(answer.statusText).toBe('Made');
    expect(answer.headers['x-one']).toBe('a');
    expect(answer.rawHeaders.filter((_, i, all) => all[i - 1] === 'set-cookie')).toEqual(['s=1', 't=2']);
    expect(answer.body.toString('utf8')).toBe('héllo');
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const ports: number[] = [];
    server.answer((request, response) => {
      ports.push(request.socket.remotePort ?? 0);
      response.end('ok');
    });
    for (let i = 0; i < 3; i++) await httpRequest({ url: new URL(origin), method: 'GET' });
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(1);
  });

  it('fails with ECONNREFUSED, marked as never connected, when nothing listens', async () => {
    const port = await freePort();
    const error = await failure(httpRequest({ url: new URL(`http://127.0.0.1:${port}/`), method: 'POST' }));
    expect(error).toBeInstanceOf(HttpTransportError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', neverConnected: true });
  });

  it('times out the whole exchange (a connected request is not marked never connected)', async () => {
    server.answer((_request, response) => {
      setTimeout(() => response.end('late'), 500);
    });
    const error = await failure(
      httpRequest({ url: new URL(origin), method: 'POST', body: 'x', timeoutMs: 100 }),
    );
    expect(error).toMatchObject({ name: 'HttpTransportError', code: 'ETIMEDOUT', neverConnected: false });
  });

  it('also times out when the body stalls after the headers came', async () => {
    server.answer((_request, response) => {
      response.writeHead(200, { 'content-length': '10' });
      response.write('12345');
    });
    const error = await failure(httpRequest({ url: new URL(origin), method: 'GET', timeoutMs: 150 }));
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('keeps a request alive longer than the idle timeout of its keep-alive agent', async () => {
    const agent = new http.Agent({ keepAlive: true, timeout: 50 });
    server.answer((_request, response) => {
      setTimeout(() => response.end('slow but fine'), 250);
    });
    try {
      await httpRequest({ url: new URL(origin), method: 'GET', agent });
      const answer = await httpRequest({ url: new URL(origin), method: 'GET', agent });
      expect(answer.body.toString()).toBe('slow but fine');
    } finally {
      agent.destroy();
    }
  });

  it("rejects with the signal's reason when aborted, and sends nothing when aborted already", async () => {
    let requests = 0;
    server.answer((_request, response) => {
      requests += 1;
      setTimeout(() => response.end('late'), 500);
    });
    const controller = new AbortController();
    const pending = failure(httpRequest({ url: new URL(origin), method: 'GET', signal: controller.signal }));
    setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), 50);
    expect(await pending).toMatchObject({ name: 'TimeoutError', message: 'deadline' });

    const aborted = AbortSignal.abort();
    const error = await failure(httpRequest({ url: new URL(origin), method: 'GET', signal: aborted }));
    expect(error).toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requests).toBe(1);
  });

  it('refuses an answer larger than maxBodyBytes', async () => {
    server.answer((_request, response) => response.end('x'.repeat(5000)));
    const error = await failure(httpRequest({ url: new URL(origin), method: 'GET', maxBodyBytes: 1000 }));
    expect(error).toMatchObject({ code: 'ERR_RESPONSE_TOO_LARGE' });
    const whole = await httpRequest({ url: new URL(origin), method: 'GET', maxBodyBytes: 5000 });
    expect(whole.body).toHaveLength(5000);
  });

  it('fails, rather than answering with half a body, when the connection drops mid-answer', async () => {
    server.answer((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const error = await failure(httpRequest({ url: new URL(origin), method: 'GET' }));
    expect(error).toBeInstanceOf(HttpTransportError);
    expect(error).toMatchObject({ neverConnected: false });
  });

  it('unpacks a gzip answer it did not ask for, bounded by maxBodyBytes', async () => {
    const packed = gzipSync(Buffer.from('{"ok":true}'));
    server.answer((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.end(packed);
    });
    const answer = await httpRequest({ url: new URL(origin), method: 'GET' });
    expect(answer.body.toString()).toBe('{"ok":true}');

    // 1 MB of zeros packs into ~1 KB: under the limit on the wire, over it once unpacked.
    const bomb = gzipSync(Buffer.alloc(1024 * 1024));
    server.answer((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.end(bomb);
    });
    const error = await failure(
      httpRequest({ url: new URL(origin), method: 'GET', maxBodyBytes: 64 * 1024 }),
    );
    expect(error).toMatchObject({ name: 'HttpTransportError', code: 'ERR_RESPONSE_TOO_LARGE' });
  });

  it('unpacks deflate with and without the zlib wrapper, and passes an unknown encoding through', async () => {
    const text = Buffer.from('{"deflated":true}');
    for (const [encoding, body] of [
      ['deflate', deflateSync(text)],
      ['deflate', deflateRawSync(text)],
      ['zstd-or-whatever', text],
    ] as const) {
      server.answer((_request, response) => {
        response.writeHead(200, { 'content-encoding': encoding });
        response.end(body);
      });
      const answer = await httpRequest({ url: new URL(origin), method: 'GET' });
      expect(answer.body.toString()).toBe('{"deflated":true}');
    }
  });

  it('answers an empty body as empty, whatever Content-Encoding says (a 429 must stay a 429)', async () => {
    server.answer((_request, response) => {
      response.writeHead(429, { 'content-encoding': 'gzip', 'content-length': '0', 'retry-after': '3' });
      response.end();
    });
    const answer = await httpRequest({ url: new URL(origin), method: 'POST', body: '{}' });
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('3');
    expect(answer.body).toHaveLength(0);
  });
});
