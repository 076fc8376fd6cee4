/**
 * An HTTP proxy between the app and the fake Twilio that decides what happens to the next message sends, so a
 * test can kill a worker at an exact point of a send:
 *  - 'accept-then-hang': Twilio gets (and records) the message, but the answer never comes back to the app,
 *    as when a process dies after Twilio took the message and before it learned the SID;
 *  - 'hang': the request never reaches Twilio and is never answered, as when a process dies before its
 *    request went out;
 *  - 'accept-then-reset': Twilio gets (and records) the message, then the connection is cut before the answer,
 *    as when a network path drops after the provider took the message (the app sees ECONNRESET).
 * Every other request (and every send once the planned ones are used up) passes through unchanged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SendFate = 'accept-then-hang' | 'accept-then-reset' | 'hang';

export interface SendGate {
  /** Use as TWILIO_API_BASE_URL. */
  url: string;
  /** Message sends that reached the gate so far. */
  readonly sends: number;
  /** The next sends meet these fates, in order. */
  plan(...fates: SendFate[]): void;
  close(): Promise<void>;
}

export async function startSendGate(target: string): Promise<SendGate> {
  const fates: SendFate[] = [];
  let sends = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const isSend = request.method === 'POST' && /\/Messages\.json$/.test(request.url ?? '');
      if (isSend) sends += 1;
      const fate = isSend ? fates.shift() : undefined;
      if (fate === 'hang') return;
      void forward(target, request, body).then(
        (answer) => {
          if (fate === 'accept-then-hang') return;
          if (fate === 'accept-then-reset') {
            request.socket.destroy();
            return;
          }
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
        },
        (error: unknown) => {
          response.writeHead(502, { 'content-type': 'text/plain' });
          response.end(`send gate: ${String(error)}`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get sends() {
      return sends;
    },
    plan(...next) {
      fates.push(...next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

async function forward(target: string, request: http.IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'host' || name === 'connection' || name === 'content-length' || value === undefined)
      continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const method = request.method ?? 'GET';
  const answer = await fetch(new URL(request.url ?? '/', target), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  const answerHeaders: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    // fetch already decoded and de-chunked the body.
    if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
      answerHeaders[name] = value;
  });
  return { status: answer.status, headers: answerHeaders, body: Buffer.from(await answer.arrayBuffer()) };
}
