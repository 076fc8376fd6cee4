import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = createServer({
    log: silentLogger(),
    bodyLimitBytes: 1024,
    trustProxy: false,
    requestTimeoutMs: 1000,
  });
  app.get('/health/', () => ({ status: 'healthy' }));
  app.post('/echo', (request) => request.body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/**
 * Send `head` at once, then one `drip` line every 100 ms, up to `maxDrips`; resolve when the server closes the
 * connection, with what it answered and whether the client was still sending.
 */
function slowClient(head: string, drip: string, maxDrips: number) {
  return new Promise<{ answer: string; dripsSent: number }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let dripsSent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, dripsSent });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (dripsSent >= maxDrips) {
          clearInterval(timer);
          socket.destroy();
          reject(new Error('the server let a slow client go on sending for the whole test'));
          return;
        }
        if (!socket.destroyed) socket.write(drip);
        dripsSent += 1;
      }, 100);
    });
  });
}

describe('request timeouts', () => {
  it('cuts off a client that sends its headers very slowly (slowloris) with 408', async () => {
    const { answer, dripsSent } = await slowClient(
      'GET /health/ HTTP/1.1\r\nHost: localhost\r\n',
      'X-Drip: 1\r\n',
      200,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(dripsSent).toBeLessThan(200);
  });

  it('cuts off a client that sends its body very slowly with 408', async () => {
    const head =
      'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const { answer, dripsSent } = await slowClient(head, ' ', 200);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(dripsSent).toBeLessThan(200);
  });

  it('still answers ordinary requests after cutting slow ones off', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health/`);
    expect(response.status).toBe(200);
  });
});

describe('body size limit', () => {
  it('answers 413 to a body over the limit, over a real socket, and keeps serving', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    expect((await fetch(`http://127.0.0.1:${port}/health/`)).status).toBe(200);
  });
});
