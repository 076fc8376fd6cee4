/**
 * A small HTTP/1.1 client on node:http(s), the transport under both SDKs on the worker's hot path: the Twilio
 * SDK's send (through its documented custom httpClient) and the LLM SDKs' completion (through their `fetch`
 * option). The SDKs still build every request and read every answer; only the bytes on the wire go through
 * here. Why: per call, axios (Twilio) and undici's fetch (OpenAI, Anthropic) cost about twice the client CPU of a
 * plain keep-alive request (micro-benchmark in bench/analysis.md), and they are one of the worker's largest costs
 * per message.
 *
 * It buffers the whole answer (our calls are small JSON exchanges, never streams), bounds its size, and fails with
 * an HttpTransportError that says whether the request can have reached the server.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export interface HttpRequest {
  url: URL;
  method: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** Deadline for the whole exchange: connecting, sending, and reading the whole answer. */
  timeoutMs?: number;
  signal?: AbortSignal | null | undefined;
  /** Defaults to a shared keep-alive agent per protocol. */
  agent?: http.Agent;
  /** Answers larger than this fail (ERR_RESPONSE_TOO_LARGE) instead of filling the memory. */
  maxBodyBytes?: number;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Lower-cased names, as node:http gives them. */
  headers: http.IncomingHttpHeaders;
  /** Name/value pairs in arrival order, repeated headers kept apart. */
  rawHeaders: string[];
  body: Buffer;
}

/** A failure below HTTP: no answer, or not a whole one. */
export class HttpTransportError extends Error {
  /** The system error code (ECONNREFUSED, ECONNRESET, …) or ours (ETIMEDOUT, ERR_RESPONSE_TOO_LARGE, …). */
  readonly code: string;
  /** True when no connection to the server was ever made for this request: it cannot have been received. */
  readonly neverConnected: boolean;

  constructor(message: string, code: string, neverConnected: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpTransportError';
    this.code = code;
    this.neverConnected = neverConnected;
  }
}

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Idle keep-alive sockets close after this long (undici's default; node's agent shortens it further when the
 * server announces `Keep-Alive: timeout=…`), so a socket the server already dropped is rarely reused.
 */
const IDLE_SOCKET_MS = 4000;

/**
 * Idle sockets kept per host. Node's default (256) is below a worker's concurrency (up to 500 LLM calls at
 * once), so each wave of answers closed the surplus and the next wave connected again.
 */
const MAX_FREE_SOCKETS = 1024;

const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, maxFreeSockets: MAX_FREE_SOCKETS };
const sharedAgents = {
  'http:': new http.Agent(agentOptions),
  'https:': new https.Agent(agentOptions),
};

/** Codes of failures that happen before the connection exists. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const { url, signal } = request;
  const transport = url.protocol === 'https:' ? https : http;
  const agent = request.agent ?? (url.protocol === 'https:' ? sharedAgents['https:'] : sharedAgents['http:']);
  const maxBodyBytes = request.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const headers: Record<string, string | number> = { ...request.headers };
  if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);

  return new Promise<HttpResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let connected = false;
    let settled = false;
    const finish = (error: unknown, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (response) resolve(response);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const fail = (error: unknown) => {
      if (settled) return;
      req.destroy();
      finish(error);
    };
    const onAbort = () => {
      if (signal) fail(abortReason(signal));
    };

    const req = transport.request(
      url,
      { method: request.method, headers, agent },
      (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            fail(
              new HttpTransportError(
                `the answer is larger than ${maxBodyBytes} bytes`,
                'ERR_RESPONSE_TOO_LARGE',
                false,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => {
          fail(transportError(error, connected));
        });
        res.on('close', () => {
          if (!res.complete)
            fail(
              new HttpTransportError(
                'the connection closed before the answer was whole',
                'ECONNRESET',
                false,
              ),
            );
        });
        res.on('end', () => {
          decode(Buffer.concat(chunks, size), res.headers['content-encoding'], maxBodyBytes).then(
            (body) => {
              finish(null, {
                status: res.statusCode ?? 0,
                statusText: res.statusMessage ?? '',
                headers: res.headers,
                rawHeaders: res.rawHeaders,
                body,
              });
            },
            (error: unknown) => {
              finish(transportError(error, true));
            },
          );
        });
      },
    );
    req.on('socket', (socket) => {
      // A reused keep-alive socket is connected already; a new one says so when it is. Over TLS the request can
      // only leave once the handshake is done, so a refused certificate still means "never received".
      if (!(socket as { connecting?: boolean }).connecting) connected = true;
      else
        socket.once('encrypted' in socket ? 'secureConnect' : 'connect', () => {
          connected = true;
        });
    });
    req.on('error', (error) => {
      fail(transportError(error, connected));
    });
    const timer =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            fail(
              connected
                ? new HttpTransportError(`no whole answer within ${request.timeoutMs} ms`, 'ETIMEDOUT', false)
                : new HttpTransportError(
                    `no connection within ${request.timeoutMs} ms (connecting, or waiting for a free one)`,
                    'ERR_SOCKET_CONNECTION_TIMEOUT',
                    true,
                  ),
            );
          }, request.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(request.body);
  });
}

function transportError(error: unknown, connected: boolean): HttpTransportError {
  if (error instanceof HttpTransportError) return error;
  const systemCode = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  const code = typeof systemCode === 'string' ? systemCode : 'ERR_NETWORK';
  const message = error instanceof Error ? error.message : String(error);
  return new HttpTransportError(message, code, !connected || CONNECT_CODES.has(code), { cause: error });
}

/** The signal's reason when it is an error (as the platform's fetch rejects); else an AbortError saying it. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'This operation was aborted', 'AbortError');
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/**
 * We ask for no compression; a server that compresses anyway is still understood. An empty body (a 204, an error
 * without a body) is empty whatever the header says, and an encoding we do not know is passed through, as the
 * platform's fetch does.
 */
async function decode(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  if (body.length === 0) return body;
  // Bounded like the body itself, so a small compressed answer cannot unpack into gigabytes.
  const options = { maxOutputLength: maxBytes };
  const unpack = (run: Promise<Buffer>): Promise<Buffer> =>
    run.catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') throw error;
      throw new HttpTransportError(
        `the answer unpacks to more than ${maxBytes} bytes`,
        'ERR_RESPONSE_TOO_LARGE',
        false,
      );
    });
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return unpack(gunzip(body, options));
    case 'deflate':
      // Servers disagree on whether "deflate" has the zlib wrapper; its two-byte header says.
      return unpack(hasZlibHeader(body) ? inflate(body, options) : inflateRaw(body, options));
    case 'br':
      return unpack(brotli(body, options));
    default:
      return body;
  }
}

function hasZlibHeader(body: Buffer): boolean {
  const [first = 0, second = 0] = body;
  return (first & 0x0f) === 8 && ((first << 8) | second) % 31 === 0;
}
