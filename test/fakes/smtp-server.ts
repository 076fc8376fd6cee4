/**
 * A local SMTP server on 127.0.0.1 speaking enough of RFC 5321 (EHLO/HELO, AUTH PLAIN/LOGIN, MAIL FROM, RCPT TO,
 * DATA, RSET, NOOP, QUIT) for nodemailer to deliver to it. It records every message; a test can make it refuse
 * (a reply code at a chosen step) to check that a failing mail server is survived.
 */
import net from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as sent after DATA, dot-unstuffed. */
  raw: string;
  headers: Record<string, string>;
  /** The body, quoted-printable or base64 decoded when the message says so. */
  text: string;
  /** Credentials given with AUTH, if any. */
  auth?: { user: string; password: string };
}

export type SmtpStep = 'connect' | 'auth' | 'mail' | 'rcpt' | 'data';

export interface FakeSmtp {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** From now on answer `step` with this reply (e.g. '554 5.7.1 rejected'); 'connect' refuses the greeting. */
  failAt(step: SmtpStep, reply: string): void;
  /** Resolves once `count` messages arrived; rejects after timeoutMs. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeSmtp(): Promise<FakeSmtp> {
  const messages: ReceivedMail[] = [];
  const failures = new Map<SmtpStep, string>();
  const sockets = new Set<net.Socket>();
  const waiters: Array<() => void> = [];

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket, failures, (mail) => {
      messages.push(mail);
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    failAt: (step, reply) => failures.set(step, reply),
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} mail(s), got ${messages.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return messages.slice(0, count);
    },
    reset() {
      messages.length = 0;
      failures.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(
  socket: net.Socket,
  failures: Map<SmtpStep, string>,
  deliver: (mail: ReceivedMail) => void,
): void {
  const reply = (line: string) => socket.write(`${line}\r\n`);
  const refusal = failures.get('connect');
  if (refusal) {
    reply(refusal);
    socket.end();
    return;
  }
  reply('220 fake-smtp.test ESMTP ready');

  let buffer = '';
  let inData = false;
  let dataLines: string[] = [];
  let envelope: { from: string; to: string[] } | null = null;
  let auth: ReceivedMail['auth'];
  let loginStep: 'user' | 'password' | null = null;
  let loginUser = '';

  const command = (line: string) => {
    if (loginStep === 'user') {
      loginUser = decode64(line);
      loginStep = 'password';
      return reply('334 UGFzc3dvcmQ6');
    }
    if (loginStep === 'password') {
      loginStep = null;
      return authenticate(loginUser, decode64(line));
    }
    const [verb = '', ...rest] = line.split(' ');
    const argument = rest.join(' ');
    switch (verb.toUpperCase()) {
      case 'EHLO':
        return socket.write('250-fake-smtp.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n');
      case 'HELO':
        return reply('250 fake-smtp.test');
      case 'AUTH': {
        const [mechanism = '', initial] = argument.split(' ');
        if (mechanism.toUpperCase() === 'PLAIN') {
          const [, user = '', password = ''] = decode64(initial ?? '').split('\0');
          return authenticate(user, password);
        }
        if (mechanism.toUpperCase() === 'LOGIN') {
          loginStep = 'user';
          return reply('334 VXNlcm5hbWU6');
        }
        return reply('504 5.5.4 mechanism not supported');
      }
      case 'MAIL':
        if (failures.has('mail')) return reply(failures.get('mail')!);
        envelope = { from: address(argument), to: [] };
        return reply('250 2.1.0 OK');
      case 'RCPT':
        if (!envelope) return reply('503 5.5.1 MAIL first');
        if (failures.has('rcpt')) return reply(failures.get('rcpt')!);
        envelope.to.push(address(argument));
        return reply('250 2.1.5 OK');
      case 'DATA':
        if (!envelope || envelope.to.length === 0) return reply('503 5.5.1 RCPT first');
        inData = true;
        dataLines = [];
        return reply('354 end data with <CR><LF>.<CR><LF>');
      case 'RSET':
        envelope = null;
        return reply('250 2.0.0 OK');
      case 'NOOP':
        return reply('250 2.0.0 OK');
      case 'QUIT':
        reply('221 2.0.0 bye');
        return socket.end();
      default:
        return reply('502 5.5.2 command not recognised');
    }
  };

  const authenticate = (user: string, password: string) => {
    if (failures.has('auth')) return reply(failures.get('auth')!);
    auth = { user, password };
    return reply('235 2.7.0 authenticated');
  };

  const endOfData = () => {
    inData = false;
    if (failures.has('data')) return reply(failures.get('data')!);
    const raw = dataLines.map((l) => (l.startsWith('..') ? l.slice(1) : l)).join('\r\n');
    deliver({ ...envelope!, raw, ...parseMessage(raw), ...(auth ? { auth } : {}) });
    envelope = null;
    return reply('250 2.0.0 queued');
  };

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!inData) command(line);
      else if (line === '.') endOfData();
      else dataLines.push(line);
    }
  });
}

function decode64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

function address(argument: string): string {
  return /<([^>]*)>/.exec(argument)?.[1] ?? argument.replace(/^(FROM|TO):/i, '').trim();
}

function parseMessage(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  // Folded header lines continue the previous one.
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = headers['content-transfer-encoding']?.toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? decode64(body.replace(/\s+/g, ''))
        : body;
  return { headers, text };
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const unfolded = body.replace(/=\r\n/g, '');
  for (let i = 0; i < unfolded.length; i++) {
    const char = unfolded[i]!;
    const hex = unfolded.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
