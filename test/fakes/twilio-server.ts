/**
 * A local stand-in for api.twilio.com that speaks the REST wire protocol the real twilio SDK uses (form-encoded
 * POSTs, HTTP Basic auth, Twilio's JSON bodies, error envelope and paging), and plays Twilio's part in status
 * callbacks, signed with the auth token as Twilio signs them.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formBody, parseForm, signParams, type FormParams } from '../helpers/twilio.js';

export interface SentMessage {
  sid: string;
  /** The account whose credentials sent it (the fake's own, or one of `otherAccounts`). */
  accountSid: string;
  to: string;
  from: string;
  body: string;
  /** MediaUrl params, in order, when the message carried media. */
  mediaUrls?: string[];
  /** A template send: the Content SID and the ContentVariables JSON as sent. */
  contentSid?: string;
  contentVariables?: string;
  statusCallback?: string;
  /** Milliseconds since the epoch when the fake accepted it. */
  at: number;
}

export interface FakeFailure {
  status: number;
  code: number;
  message: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  params: FormParams;
  /** HTTP Basic credentials matched. */
  authorized: boolean;
}

/** One inbound media file the fake serves, as Twilio does: MediaUrl behind Basic auth, 302 to a CDN path. */
export interface FakeMediaFile {
  bytes: Buffer;
  contentType: string;
  /** The first CDN request sends the headers and half the bytes, then stalls this long (a slow download). */
  stallFirstMs?: number;
}

/** A request for a media file: at the MediaUrl (`api`, authorized or not) or at the CDN it redirects to. */
export interface FakeMediaRequest {
  where: 'api' | 'cdn';
  mediaSid: string;
  authorized: boolean;
}

export interface FakeTwilio {
  /** Origin to use as TWILIO_API_BASE_URL. */
  url: string;
  /** Serve a file as an inbound message's media; returns its MediaUrl (on the API host, under the account). */
  addMedia(file: FakeMediaFile): string;
  /** Every request for a media file, oldest first. */
  mediaRequests: FakeMediaRequest[];
  accountSid: string;
  authToken: string;
  /** Messages accepted, oldest first. */
  sent: SentMessage[];
  /** Every API request, for asserting what the SDK asked. */
  requests: FakeRequest[];
  /** The next `count` message sends fail with this Twilio error. */
  failNext(count: number, failure: FakeFailure): void;
  /** The next `count` message sends are answered after `ms`. */
  delayNext(count: number, ms: number): void;
  /** Every API request is answered after `ms` (0 to stop). */
  setDelay(ms: number): void;
  /** Resolves once `count` messages were accepted; rejects after timeoutMs listing what did arrive. */
  waitForSent(count: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Post a status callback for message `sid` to its StatusCallback URL, signed as Twilio signs it. */
  deliverStatus(sid: string, status: string, errorCode?: string): Promise<Response>;
  /** Forget messages, requests, failures and delays. */
  reset(): void;
  close(): Promise<void>;
}

interface StoredMessage extends SentMessage {
  status: string;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  errorCode: number | null;
}

const API = '/2010-04-01';

/** Twilio's date format: RFC 2822 with +0000. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function sid(prefix: string): string {
  return prefix + crypto.randomBytes(16).toString('hex');
}

function twilioError(status: number, code: number, message: string): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export async function startFakeTwilio(
  options: {
    accountSid?: string;
    authToken?: string;
    /** Further accounts served at the same URL (a business number of another Twilio account). */
    otherAccounts?: Array<{ accountSid: string; authToken: string }>;
  } = {},
): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? sid('AC');
  const authToken = options.authToken ?? crypto.randomBytes(16).toString('hex');
  const basic = (user: string, password: string) =>
    'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const accountAuth = new Map([[accountSid, basic(accountSid, authToken)]]);
  for (const other of options.otherAccounts ?? [])
    accountAuth.set(other.accountSid, basic(other.accountSid, other.authToken));
  const sent: SentMessage[] = [];
  const requests: FakeRequest[] = [];
  const messages = new Map<string, StoredMessage>();
  const failures: FakeFailure[] = [];
  const delays: number[] = [];
  let delayAll = 0;
  const waiters = new Set<() => void>();
  const mediaFiles = new Map<string, FakeMediaFile & { stalled?: boolean }>();
  const mediaRequests: FakeMediaRequest[] = [];

  const messageJson = (m: StoredMessage): Record<string, unknown> => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
    date_updated: rfc2822(m.dateUpdated),
    direction: 'outbound-api',
    error_code: m.errorCode,
    error_message: null,
    from: m.from,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil(m.body.length / 153))),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: {
      media: `${API}/Accounts/${accountSid}/Messages/${m.sid}/Media.json`,
      feedback: `${API}/Accounts/${accountSid}/Messages/${m.sid}/Feedback.json`,
    },
    to: m.to,
    uri: `${API}/Accounts/${accountSid}/Messages/${m.sid}.json`,
  });

  function createMessage(params: FormParams, sender: string): [number, Record<string, unknown>] {
    const one = (key: string): string | undefined => {
      const value = params[key];
      return typeof value === 'string' ? value : value?.[0];
    };
    const to = one('To');
    const from = one('From');
    const mediaValue = params.MediaUrl;
    const mediaUrls =
      mediaValue === undefined ? [] : typeof mediaValue === 'string' ? [mediaValue] : mediaValue;
    const contentSid = one('ContentSid');
    const contentVariables = one('ContentVariables');
    if (!to) return [400, twilioError(400, 21604, "A 'To' phone number is required.")];
    if (!from) return [400, twilioError(400, 21603, "A 'From' phone number is required.")];
    if (contentVariables !== undefined && !contentSid)
      return [400, twilioError(400, 21654, 'ContentVariables specified without ContentSid.')];
    // 21654 is Twilio's documented code; the two below are stand-ins (the real codes are not in our sources).
    if (contentSid !== undefined && !/^HX[0-9a-fA-F]{32}$/.test(contentSid))
      return [400, twilioError(400, 21655, 'The ContentSid is invalid.')];
    if (contentVariables !== undefined) {
      try {
        JSON.parse(contentVariables);
      } catch {
        return [400, twilioError(400, 21656, 'The ContentVariables parameter is invalid.')];
      }
    }
    // Twilio renders a template itself: its body is the template's text, here a stand-in that names it.
    const body = contentSid ? `[template ${contentSid} ${contentVariables ?? '{}'}]` : (one('Body') ?? '');
    if (!body && mediaUrls.length === 0) return [400, twilioError(400, 21602, 'Message body is required.')];
    if (body.length > 1600) {
      return [
        400,
        twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'),
      ];
    }
    const now = new Date();
    const statusCallback = one('StatusCallback');
    const message: StoredMessage = {
      sid: sid('SM'),
      accountSid: sender,
      to,
      from,
      body,
      at: now.getTime(),
      ...(statusCallback ? { statusCallback } : {}),
      status: 'queued',
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
      errorCode: null,
    };
    messages.set(message.sid, message);
    sent.push({
      sid: message.sid,
      accountSid: sender,
      to,
      from,
      body,
      ...(mediaUrls.length > 0 ? { mediaUrls } : {}),
      ...(contentSid ? { contentSid } : {}),
      ...(contentVariables === undefined ? {} : { contentVariables }),
      at: message.at,
      ...(statusCallback ? { statusCallback } : {}),
    });
    for (const wake of waiters) wake();
    return [201, messageJson(message)];
  }

  function listMessages(query: URLSearchParams, path: string): Record<string, unknown> {
    const to = query.get('To');
    const from = query.get('From');
    const after = query.get('DateSent>');
    const before = query.get('DateSent<');
    const pageSize = Math.min(Number(query.get('PageSize') ?? 50) || 50, 1000);
    // Newest first; among equal timestamps the later insertion first (stable sort over reversed order).
    const selected = [...messages.values()]
      .reverse()
      .filter((m) => (to === null || m.to === to) && (from === null || m.from === from))
      // Like Twilio, the DateSent filters look at date_sent, which a queued message does not have yet.
      .filter((m) => after === null || (m.dateSent !== null && m.dateSent.getTime() >= Date.parse(after)))
      .filter((m) => before === null || (m.dateSent !== null && m.dateSent.getTime() <= Date.parse(before)))
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())
      .slice(0, pageSize);
    const uri = `${path}?${query.toString()}`;
    return {
      end: Math.max(0, selected.length - 1),
      first_page_uri: uri,
      messages: selected.map(messageJson),
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri,
    };
  }

  function accountJson(): Record<string, unknown> {
    return {
      auth_token: authToken,
      date_created: rfc2822(new Date(Date.UTC(2020, 0, 1))),
      date_updated: rfc2822(new Date(Date.UTC(2020, 0, 1))),
      friendly_name: 'Fake Twilio account',
      owner_account_sid: accountSid,
      sid: accountSid,
      status: 'active',
      subresource_uris: { messages: `${API}/Accounts/${accountSid}/Messages.json` },
      type: 'Full',
      uri: `${API}/Accounts/${accountSid}.json`,
    };
  }

  /** The CDN a MediaUrl redirects to: no credentials asked (its URL is the secret, short-lived at Twilio). */
  async function serveCdn(mediaSid: string, response: http.ServerResponse): Promise<void> {
    const file = mediaFiles.get(mediaSid);
    mediaRequests.push({ where: 'cdn', mediaSid, authorized: false });
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
    if (file.stallFirstMs !== undefined && !file.stalled) {
      file.stalled = true;
      const half = Math.floor(file.bytes.length / 2);
      response.write(file.bytes.subarray(0, half));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, file.stallFirstMs);
        response.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!response.destroyed) response.end(file.bytes.subarray(half));
      return;
    }
    response.end(file.bytes);
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const cdn = /^\/cdn\/(ME\w+)$/.exec(url.pathname)?.[1];
    if (method === 'GET' && cdn) {
      await serveCdn(cdn, response);
      return;
    }
    // The account the request is about (its path), authorized by that account's own credentials.
    const account = /\/Accounts\/(AC\w+?)(?:\/|\.json)/.exec(url.pathname)?.[1] ?? accountSid;
    const expectedAuth = accountAuth.get(account);
    const authorized = expectedAuth !== undefined && request.headers.authorization === expectedAuth;
    const params = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
      ? parseForm(raw)
      : {};
    requests.push({ method, path: url.pathname, query: url.searchParams, params, authorized });

    const reply = (
      status: number,
      body: Record<string, unknown>,
      headers: Record<string, string> = {},
    ): void => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(body));
    };

    const isSend = method === 'POST' && url.pathname === `${API}/Accounts/${account}/Messages.json`;
    const delay = (isSend ? delays.shift() : undefined) ?? delayAll;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    if (!authorized) {
      const refusedMedia = /\/Media\/(ME\w+)$/.exec(url.pathname)?.[1];
      if (refusedMedia) mediaRequests.push({ where: 'api', mediaSid: refusedMedia, authorized: false });
      reply(401, twilioError(401, 20003, 'Authentication Error - invalid username'), {
        'www-authenticate': 'Basic realm="Twilio API"',
      });
      return;
    }
    if (isSend) {
      const failure = failures.shift();
      if (failure) {
        const headers: Record<string, string> =
          failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) };
        reply(failure.status, twilioError(failure.status, failure.code, failure.message), headers);
        return;
      }
      const [status, body] = createMessage(params, account);
      reply(status, body);
      return;
    }
    const media = /^\/2010-04-01\/Accounts\/AC\w+\/Messages\/MM\w+\/Media\/(ME\w+)$/.exec(url.pathname)?.[1];
    if (method === 'GET' && media) {
      mediaRequests.push({ where: 'api', mediaSid: media, authorized });
      if (!mediaFiles.has(media)) {
        reply(404, twilioError(404, 20404, `The requested resource ${url.pathname} was not found`));
        return;
      }
      // Twilio answers a media URL with a redirect to its CDN.
      response.writeHead(302, { location: `/cdn/${media}` });
      response.end();
      return;
    }
    if (method === 'GET' && url.pathname === `${API}/Accounts/${account}/Messages.json`) {
      reply(200, listMessages(url.searchParams, url.pathname));
      return;
    }
    if (method === 'GET' && url.pathname === `${API}/Accounts/${accountSid}.json`) {
      reply(200, accountJson());
      return;
    }
    reply(404, twilioError(404, 20404, `The requested resource ${url.pathname} was not found`));
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify(twilioError(500, 20500, `fake Twilio crashed: ${String(error)}`)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    addMedia(file) {
      const mediaSid = sid('ME');
      mediaFiles.set(mediaSid, { ...file });
      return `http://127.0.0.1:${port}${API}/Accounts/${accountSid}/Messages/${sid('MM')}/Media/${mediaSid}`;
    },
    mediaRequests,
    accountSid,
    authToken,
    sent,
    requests,
    failNext(count, failure) {
      for (let i = 0; i < count; i += 1) failures.push(failure);
    },
    delayNext(count, ms) {
      for (let i = 0; i < count; i += 1) delays.push(ms);
    },
    setDelay(ms) {
      delayAll = ms;
    },
    waitForSent(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (sent.length < count) return;
          finish();
          resolve(sent.slice());
        };
        const timer = setTimeout(() => {
          finish();
          const arrived =
            sent.map((m) => `${m.to} ← ${JSON.stringify(m.body.slice(0, 80))}`).join('; ') || 'none';
          reject(
            new Error(
              `fake Twilio: expected ${count} message(s) within ${timeoutMs} ms, got ${sent.length}: ${arrived}`,
            ),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async deliverStatus(messageSid, status, errorCode) {
      const message = messages.get(messageSid);
      if (!message) throw new Error(`fake Twilio: no message ${messageSid}`);
      if (!message.statusCallback)
        throw new Error(`fake Twilio: message ${messageSid} has no StatusCallback`);
      const now = new Date();
      message.status = status;
      message.dateUpdated = now;
      if (['sent', 'delivered', 'read'].includes(status) && message.dateSent === null) message.dateSent = now;
      if (errorCode !== undefined) message.errorCode = Number(errorCode);
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        ChannelPrefix: 'whatsapp',
        ChannelToAddress: message.to.replace(/^whatsapp:/, ''),
        From: message.from,
        MessageSid: message.sid,
        MessageStatus: status,
        SmsSid: message.sid,
        SmsStatus: status,
        StructuredMessage: 'false',
        To: message.to,
        ...(errorCode === undefined ? {} : { ErrorCode: errorCode }),
      };
      return fetch(message.statusCallback, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signParams(authToken, message.statusCallback, params),
          'user-agent': 'TwilioProxy/1.1',
        },
        body: formBody(params),
      });
    },
    reset() {
      sent.length = 0;
      requests.length = 0;
      mediaRequests.length = 0;
      messages.clear();
      failures.length = 0;
      delays.length = 0;
      delayAll = 0;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
