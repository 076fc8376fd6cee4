/**
 * A local HTTP server whose answers each test scripts: the handler gets the request with its whole body read.
 * For testing HTTP clients (src/infra/http-client.ts, lean-fetch.ts) against a real socket.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedHandler = (
  request: http.IncomingMessage,
  response: http.ServerResponse,
  body: string,
) => void;

export interface ScriptedServer {
  origin: string;
  /** Answer the next requests with this handler. */
  answer(handler: ScriptedHandler): void;
  /** Drops open connections (keep-alive ones included) and stops. */
  close(): Promise<void>;
}

export async function startScriptedServer(handler: ScriptedHandler): Promise<ScriptedServer> {
  let current = handler;
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      current(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
