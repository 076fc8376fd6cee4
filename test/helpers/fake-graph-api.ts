/**
 * A local stand-in for graph.facebook.com that speaks the Cloud API's wire protocol (wire facts §5.5–5.7): bearer
 * tokens per phone number id, the JSON shapes of text, template, media, reaction and mark-as-read requests,
 * Meta's answers and its error envelope, the phone number node, and the two-step media download. It records every
 * request, and can be told to fail with Meta's envelope, to answer slowly, or to hang.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeNumber {
  phoneNumberId: string;
  token: string;
  displayPhoneNumber?: string;
  verifiedName?: string;
  qualityRating?: string;
}

export interface GraphRequestRecord {
  method: string;
  /** Path without the version prefix: `/{phone-number-id}/messages`. */
  path: string;
  version: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** The parsed JSON body of a POST. */
  body: Record<string, unknown> | null;
}

export interface SentGraphMessage {
  wamid: string;
  phoneNumberId: string;
  body: Record<string, unknown>;
}

export interface GraphFailure {
  status: number;
  code: number;
  message: string;
  details?: string;
  /** Answer an HTML page instead of Meta's envelope (a proxy or load balancer in the way). */
  bare?: boolean;
}

export interface FakeMedia {
  id: string;
  bytes: Buffer;
  mimeType: string;
  /** How the metadata reports file_size (Meta's SDKs disagree: a string in one, a number in another). */
  fileSizeAs?: 'string' | 'number';
  /** Report this size instead of the real one (a lie the downloader must not trust). */
  reportedSize?: number;
  /** Stop after sending the headers and this many bytes (a download that stalls). */
  stallAfterBytes?: number;
  /** The lookup names this download URL instead of the fake's own (an altered answer). */
  downloadUrl?: string;
}

export interface FakeGraphApi {
  /** Use as META_GRAPH_API_BASE_URL. */
  url: string;
  requests: GraphRequestRecord[];
  /** Message sends accepted, oldest first (mark-as-read requests are in `reads`). */
  sent: SentGraphMessage[];
  /** Mark-as-read requests accepted: the message id and whether the typing indicator was asked. */
  reads: Array<{ phoneNumberId: string; messageId: string; typing: boolean }>;
  addNumber(number: FakeNumber): void;
  /** A WhatsApp Business Account and the apps subscribed to its webhooks (GET /{waba-id}/subscribed_apps). */
  addBusinessAccount(id: string, subscribedApps: Array<{ id: string; name: string }>): void;
  addMedia(media: Omit<FakeMedia, 'id'> & { id?: string }): FakeMedia;
  /** The next `count` POSTs to /messages fail with Meta's error envelope. */
  failNext(count: number, failure: GraphFailure): void;
  /** The next `count` POSTs to /messages are answered after `ms`. */
  delayNext(count: number, ms: number): void;
  /** The next `count` POSTs to /messages are never answered (until close). */
  hangNext(count: number): void;
  reset(): void;
  close(): Promise<void>;
}

const MESSAGE_TYPES = new Set([
  'text',
  'template',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'reaction',
]);

function envelope(failure: GraphFailure): Record<string, unknown> {
  return {
    error: {
      message: `(#${failure.code}) ${failure.message}`,
      type: 'OAuthException',
      code: failure.code,
      ...(failure.details ? { error_data: { details: failure.details } } : {}),
      fbtrace_id: crypto.randomBytes(8).toString('base64url'),
    },
  };
}

/** Why Meta would refuse this send body with code 100, or null when it is well formed. */
function shapeProblem(body: Record<string, unknown>): string | null {
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual') return 'recipient_type';
  if (typeof body.to !== 'string' || body.to === '' || body.to.startsWith('whatsapp:')) return 'to';
  const type = body.type;
  if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) return 'type';
  const object = body[type] as Record<string, unknown> | null | undefined;
  if (typeof object !== 'object' || object === null) return `${type} object missing`;
  if (type === 'text') {
    if (typeof object.body !== 'string' || object.body === '') return 'text.body';
    if (object.body.length > 4096) return 'text.body longer than 4096';
  } else if (type === 'template') {
    const language = object.language as { code?: unknown } | undefined;
    if (typeof object.name !== 'string' || typeof language?.code !== 'string')
      return 'template name/language';
  } else if (type === 'reaction') {
    if (typeof object.message_id !== 'string' || typeof object.emoji !== 'string') return 'reaction';
  } else {
    const hasLink = typeof object.link === 'string';
    if (hasLink === (typeof object.id === 'string')) return `${type}: exactly one of link or id`;
    if (object.caption !== undefined && !['image', 'video', 'document'].includes(type)) return 'caption';
  }
  const context = body.context as { message_id?: unknown } | undefined;
  if (context !== undefined && typeof context.message_id !== 'string') return 'context.message_id';
  return null;
}

export async function startFakeGraphApi(): Promise<FakeGraphApi> {
  const numbers = new Map<string, FakeNumber>();
  const accounts = new Map<string, Array<{ id: string; name: string }>>();
  const media = new Map<string, FakeMedia>();
  const requests: GraphRequestRecord[] = [];
  const sent: SentGraphMessage[] = [];
  const reads: FakeGraphApi['reads'] = [];
  let failures: GraphFailure[] = [];
  let delays: number[] = [];
  let hangs = 0;
  const hanging = new Set<http.ServerResponse>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const authorized = (number: FakeNumber | undefined, header: string | undefined) =>
    number !== undefined && header === `Bearer ${number.token}`;
  const invalidToken = (res: http.ServerResponse) =>
    json(res, 401, envelope({ status: 401, code: 190, message: 'Invalid OAuth access token.' }));

  async function postMessage(res: http.ServerResponse, phoneNumberId: string, body: Record<string, unknown>) {
    const failure = failures.shift();
    const delay = delays.shift() ?? 0;
    if (hangs > 0) {
      hangs--;
      hanging.add(res);
      return;
    }
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (failure?.bare) {
      res.writeHead(failure.status, { 'content-type': 'text/html' });
      return res.end('<html><body>Bad Gateway</body></html>');
    }
    if (failure) return json(res, failure.status, envelope(failure));
    if (body.messaging_product !== 'whatsapp')
      return json(res, 400, envelope({ status: 400, code: 100, message: 'messaging_product' }));
    if (body.status === 'read') {
      if (typeof body.message_id !== 'string')
        return json(
          res,
          400,
          envelope({ status: 400, code: 131009, message: 'Parameter value is not valid' }),
        );
      const typing = body.typing_indicator as { type?: unknown } | undefined;
      reads.push({ phoneNumberId, messageId: body.message_id, typing: typing?.type === 'text' });
      return json(res, 200, { success: true });
    }
    const problem = shapeProblem(body);
    if (problem)
      return json(res, 400, envelope({ status: 400, code: 100, message: `Invalid parameter: ${problem}` }));
    const wamid = `wamid.${crypto.randomBytes(18).toString('base64url')}`;
    sent.push({ wamid, phoneNumberId, body });
    const to = body.to as string;
    return json(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }],
      messages: [{ id: wamid }],
    });
  }

  function download(res: http.ServerResponse, item: FakeMedia) {
    const stall = item.stallAfterBytes;
    res.writeHead(200, { 'content-type': item.mimeType, 'content-length': item.bytes.length });
    if (stall === undefined) return res.end(item.bytes);
    res.write(item.bytes.subarray(0, stall));
    hanging.add(res);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const match = /^\/(v\d+\.\d+)(\/.*)$/.exec(url.pathname);
      const version = match?.[1] ?? '';
      const path = match?.[2] ?? url.pathname;
      let body: Record<string, unknown> | null = null;
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          return json(res, 400, envelope({ status: 400, code: 100, message: 'body is not JSON' }));
        }
      }
      const authorization = req.headers.authorization;
      requests.push({
        method: req.method ?? '',
        path,
        version,
        query: url.searchParams,
        authorization,
        body,
      });
      const download_ = /^\/media-download\/([^/]+)$/.exec(url.pathname);
      if (download_ && req.method === 'GET') {
        const item = media.get(download_[1] ?? '');
        if (!item) return json(res, 404, {});
        // The download URL also wants a token of ours: a plain GET is refused (wire facts §5.7).
        if (![...numbers.values()].some((n) => authorized(n, authorization))) return invalidToken(res);
        return download(res, item);
      }
      const messages = /^\/(\d+)\/messages$/.exec(path);
      if (messages && req.method === 'POST') {
        const number = numbers.get(messages[1] ?? '');
        if (!authorized(number, authorization)) return invalidToken(res);
        return void postMessage(res, messages[1] ?? '', body ?? {});
      }
      const subscriptions = /^\/([^/]+)\/subscribed_apps$/.exec(path);
      if (subscriptions && req.method === 'GET') {
        const apps = accounts.get(subscriptions[1] ?? '');
        if (![...numbers.values()].some((n) => authorized(n, authorization))) return invalidToken(res);
        if (!apps)
          return json(res, 400, envelope({ status: 400, code: 100, message: 'Unsupported get request.' }));
        return json(res, 200, {
          data: apps.map((app) => ({
            whatsapp_business_api_data: {
              id: app.id,
              link: `https://www.facebook.com/games/?app_id=${app.id}`,
              name: app.name,
            },
          })),
        });
      }
      const node = /^\/([^/]+)$/.exec(path);
      if (node && req.method === 'GET') {
        const id = node[1] ?? '';
        const number = numbers.get(id);
        if (number) {
          if (!authorized(number, authorization)) return invalidToken(res);
          return json(res, 200, {
            display_phone_number: number.displayPhoneNumber ?? '+1 555-010-0000',
            verified_name: number.verifiedName ?? 'Test Business',
            quality_rating: number.qualityRating ?? 'GREEN',
            id,
          });
        }
        const item = media.get(id);
        if (item) {
          if (![...numbers.values()].some((n) => authorized(n, authorization))) return invalidToken(res);
          const size = item.reportedSize ?? item.bytes.length;
          return json(res, 200, {
            messaging_product: 'whatsapp',
            url:
              item.downloadUrl ??
              `http://127.0.0.1:${(server.address() as AddressInfo).port}/media-download/${id}`,
            mime_type: item.mimeType,
            sha256: crypto.createHash('sha256').update(item.bytes).digest('hex'),
            file_size: item.fileSizeAs === 'number' ? size : String(size),
            id,
          });
        }
        if (![...numbers.values()].some((n) => authorized(n, authorization))) return invalidToken(res);
        return json(
          res,
          400,
          envelope({
            status: 400,
            code: 100,
            message: `Unsupported get request. Object with ID '${id}' does not exist`,
          }),
        );
      }
      return json(res, 404, envelope({ status: 404, code: 100, message: 'Unknown path' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    reads,
    addNumber: (number) => numbers.set(number.phoneNumberId, number),
    addBusinessAccount: (id, apps) => accounts.set(id, apps),
    addMedia(item) {
      const stored = { ...item, id: item.id ?? String(crypto.randomInt(1e13, 2e14)) };
      media.set(stored.id, stored);
      return stored;
    },
    failNext: (count, failure) => failures.push(...Array<GraphFailure>(count).fill(failure)),
    delayNext: (count, ms) => delays.push(...Array<number>(count).fill(ms)),
    hangNext: (count) => (hangs += count),
    reset() {
      requests.length = 0;
      sent.length = 0;
      reads.length = 0;
      failures = [];
      delays = [];
      hangs = 0;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
