import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanFetch } from '../../src/infra/lean-fetch.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { freePort } from '../helpers/tcp-proxy.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: ScriptedServer;
let origin: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = await startScriptedServer((request, response, body) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
    const path = request.url ?? '';
    if (path === '/empty') {
      response.writeHead(204, { 'x-request-id': 'r1' });
      response.end();
    } else if (path === '/moved') {
      response.writeHead(307, { location: '/json' });
      response.end();
    } else if (path === '/see-other') {
      response.writeHead(303, { location: '/json?after=303' });
      response.end();
    } else if (path === '/slow') {
      setTimeout(() => response.end('{}'), 1000);
    } else {
      response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r2' });
      response.end(JSON.stringify({ echo: body, type: request.headers['content-type'] ?? null }));
    }
  });
  origin = server.origin;
});
afterAll(async () => {
  await server.close();
});

describe('leanFetch', () => {
  it('answers like fetch: status, headers, json, for a JSON POST with Headers', async () => {
    const response = await leanFetch(`${origin}/json`, {
      method: 'post',
      headers: new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer k' }),
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('r2');
    expect(await response.json()).toEqual({ echo: '{"a":1}', type: 'application/json' });
    const last = seen.at(-1);
    expect(last?.method).toBe('POST');
    expect(last?.headers.authorization).toBe('Bearer k');
  });

  it('accepts headers as a record or as pairs, and a URL object', async () => {
    await leanFetch(new URL(`${origin}/json?x=1`), { headers: [['X-Pair', 'p']] });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/json?x=1', headers: { 'x-pair': 'p' } });
    await leanFetch(`${origin}/json`, { headers: { 'X-Record': 'r' } });
    expect(seen.at(-1)?.headers['x-record']).toBe('r');
  });

  it('gives a 204 a null body', async () => {
    const response = await leanFetch(`${origin}/empty`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expect(response.headers.get('x-request-id')).toBe('r1');
  });

  it('follows a 307 from the new location only: the POST reaches each URL once', async () => {
    seen.length = 0;
    const response = await leanFetch(`${origin}/moved`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":1}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ echo: '{"b":1}', type: 'application/json' });
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', '/moved'],
      ['POST', '/json'],
    ]);
  });

  it('turns a POST answered with 303 into a GET without the body, as fetch does', async () => {
    seen.length = 0;
    const response = await leanFetch(`${origin}/see-other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":1}',
    });
    expect(await response.json()).toEqual({ echo: '', type: null });
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', '/see-other'],
      ['GET', '/json?after=303'],
    ]);
  });

  it('fails as fetch fails when the answer is not HTTP a Response can hold (status 600)', async () => {
    const raw = net.createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 600 Odd\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const port = (raw.address() as AddressInfo).port;
      const error: unknown = await leanFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ message: 'fetch failed' });
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('hands a body it does not handle (a form) to the platform fetch', async () => {
    const response = await leanFetch(`${origin}/json`, {
      method: 'POST',
      body: new URLSearchParams({ k: 'v' }),
    });
    expect(await response.json()).toEqual({
      echo: 'k=v',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
    });
  });

  it('fails as fetch does: TypeError "fetch failed" caused by the system error', async () => {
    const port = await freePort();
    const error: unknown = await leanFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  it('rejects with an AbortError when its signal aborts without a reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error: unknown = await leanFetch(`${origin}/slow`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});
