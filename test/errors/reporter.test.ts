import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { createEmailAlerter } from '../../src/errors/email-alerter.js';
import { createErrorReporter, type ErrorReporter } from '../../src/errors/reporter.js';
import { createWebhookAlerter } from '../../src/errors/webhook-alerter.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createRedis, waitForRedis } from '../../src/infra/redis/connect.js';
import { createRedisLocks } from '../../src/infra/redis/locks.js';
import { startFakeSmtp, type FakeSmtp } from '../fakes/smtp-server.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { captureLog, type CapturedLog } from './capture-log.js';

const SMTP_PASSWORD = 'smtp-pass-SECRET-4711';
const API_KEY = 'sk-test-SECRETKEY-0815';

let smtp: FakeSmtp;
let sink: HttpSink;
let capture: CapturedLog;
const redisClients: Redis[] = [];

beforeAll(async () => {
  [smtp, sink] = await Promise.all([startFakeSmtp(), startHttpSink()]);
});
afterAll(async () => {
  await Promise.all([smtp.close(), sink.close()]);
});
beforeEach(() => {
  smtp.reset();
  sink.reset();
  capture = captureLog();
});
afterEach(() => {
  for (const redis of redisClients.splice(0)) redis.disconnect();
});

const emailAlerter = (port = smtp.port) =>
  createEmailAlerter({
    host: '127.0.0.1',
    port,
    secure: false,
    user: 'alerts@example.test',
    password: SMTP_PASSWORD,
    from: 'Chatbot <alerts@example.test>',
    to: ['admin@example.test', 'oncall@example.test'],
  });

function reporter(
  locks = createMemoryLocks(),
  alerters = [emailAlerter(), createWebhookAlerter(sink.url)],
): ErrorReporter {
  return createErrorReporter({ log: capture.log, locks, alerters, secrets: [SMTP_PASSWORD, API_KEY] });
}

/** One "process": its own ioredis client, connected, and Redis locks on the shared prefix. */
async function redisLocks(prefix: string) {
  const redis = createRedis(TEST_REDIS_URL, { purpose: 'commands' });
  redisClients.push(redis);
  await waitForRedis(redis, 5000);
  return createRedisLocks(redis, { prefix });
}

describe('error reporter: logging', () => {
  it('logs a CRITICAL error once at fatal level with its category, severity and CRITICAL in the message', async () => {
    await createErrorReporter({ log: capture.log, locks: createMemoryLocks(), alerters: [] }).report(
      new AppError('database_unavailable', 'could not store the inbound message'),
      { context: { requestId: 'req-1' } },
    );
    const lines = capture.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 60,
      severity: 'CRITICAL',
      category: 'DATABASE',
      errorType: 'database_unavailable',
      requestId: 'req-1',
    });
    expect(lines[0]!.msg).toContain('CRITICAL');
    expect(lines[0]!.msg).toContain('could not store the inbound message');
  });

  it('logs LOW at info, MEDIUM at warn and HIGH at error', async () => {
    const errors = createErrorReporter({ log: capture.log, locks: createMemoryLocks(), alerters: [] });
    await errors.report(new AppError('bad_signature', 'x'));
    await errors.report(new AppError('ai_timeout', 'x'));
    await errors.report(new AppError('queue_unavailable', 'x'));
    expect(capture.lines().map((l) => [l.level, l.severity])).toEqual([
      [30, 'LOW'],
      [40, 'MEDIUM'],
      [50, 'HIGH'],
    ]);
  });

  it('takes the category and severity given by the caller over the defaults', async () => {
    const errors = createErrorReporter({ log: capture.log, locks: createMemoryLocks(), alerters: [] });
    await errors.report(new Error('boom'), { category: 'CONFIGURATION', severity: 'MEDIUM' });
    expect(capture.lines()[0]).toMatchObject({
      category: 'CONFIGURATION',
      severity: 'MEDIUM',
      errorType: 'Error',
    });
  });

  it('counts every report in the metrics by category and severity', async () => {
    const counted: Array<{ category: string; severity: string }> = [];
    const errors = createErrorReporter({
      log: capture.log,
      locks: createMemoryLocks(),
      alerters: [],
      metrics: { inc: (labels) => counted.push(labels) },
    });
    await errors.report(new AppError('ai_timeout', 'x'));
    await errors.report(new AppError('database_unavailable', 'x'));
    expect(counted).toEqual([
      { category: 'AI', severity: 'MEDIUM' },
      { category: 'DATABASE', severity: 'CRITICAL' },
    ]);
  });
});

describe('error reporter: admin alerts', () => {
  it('sends a CRITICAL error by email and to the alert webhook, with category, severity, type and context', async () => {
    await reporter().report(new AppError('database_unavailable', 'could not store the inbound message'), {
      context: { requestId: 'req-42' },
    });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.to).toEqual(['admin@example.test', 'oncall@example.test']);
    expect(mail!.from).toBe('alerts@example.test');
    expect(mail!.auth).toEqual({ user: 'alerts@example.test', password: SMTP_PASSWORD });
    expect(mail!.headers.subject).toBe('[whatsapp-ai-chatbot] CRITICAL DATABASE error: database_unavailable');
    expect(mail!.text).toContain(
      'CRITICAL DATABASE error (database_unavailable): could not store the inbound message',
    );
    expect(mail!.text).toContain('requestId: req-42');

    const [post] = await sink.waitForRequests(1);
    expect(post!.method).toBe('POST');
    expect(post!.headers['content-type']).toBe('application/json');
    const body = post!.json as { text: string; blocks: unknown[] };
    expect(body.text).toContain('CRITICAL DATABASE error (database_unavailable)');
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(capture.lines().filter((l) => l.msg === 'admin alert sent')).toHaveLength(2);
  });

  it('alerts for HIGH too, and for neither LOW nor MEDIUM', async () => {
    const errors = reporter();
    await errors.report(new AppError('bad_signature', 'invalid Twilio signature'));
    await errors.report(new AppError('ai_timeout', 'the model did not answer in time'));
    await errors.report(new AppError('channel_rejected', 'opted out'));
    expect(smtp.messages).toHaveLength(0);
    expect(sink.requests).toHaveLength(0);
    await errors.report(new AppError('ai_bad_request', 'the model does not exist'));
    await smtp.waitForMessages(1);
    expect(smtp.messages[0]!.headers.subject).toContain('HIGH AI error: ai_bad_request');
    expect(sink.requests).toHaveLength(1);
  });

  it('never puts a secret in an alert: not from the message, the cause, or the context', async () => {
    const error = new AppError('ai_auth', `Incorrect API key provided: ${API_KEY}`, {
      cause: new Error(`smtp login with ${SMTP_PASSWORD}`),
    });
    await reporter().report(error, {
      context: {
        apiKey: API_KEY,
        password: SMTP_PASSWORD,
        note: `key was ${API_KEY}`,
        body: { key: API_KEY },
      },
    });
    const [mail] = await smtp.waitForMessages(1);
    const [post] = await sink.waitForRequests(1);
    for (const text of [mail!.raw, mail!.text, post!.body, capture.text()]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(SMTP_PASSWORD);
    }
    expect(mail!.text).toContain('Incorrect API key provided: [redacted]');
    expect(mail!.text).toContain('note: key was [redacted]');
  });

  it('sends one alert per error type per hour across two processes sharing Redis', async () => {
    const prefix = `test-${randomUUID()}`;
    const first = reporter(await redisLocks(prefix));
    const second = reporter(await redisLocks(prefix));
    const down = () => new AppError('database_unavailable', 'could not store the inbound message');
    await Promise.all([
      first.report(down()),
      second.report(down()),
      first.report(down()),
      second.report(down()),
    ]);
    await first.report(down());
    await second.report(down());
    await smtp.waitForMessages(1);
    expect(smtp.messages).toHaveLength(1);
    expect(sink.requests).toHaveLength(1);
    // Each occurrence is still logged, and the muted ones say so.
    expect(capture.lines().filter((l) => l.severity === 'CRITICAL')).toHaveLength(6);
    expect(capture.lines().filter((l) => l.msg?.startsWith('alert muted'))).toHaveLength(5);

    // Another type of error is another alert.
    await second.report(new AppError('ai_auth', 'bad key'));
    await smtp.waitForMessages(2);
    expect(sink.requests).toHaveLength(2);
  });

  it('a transient AI failure given up on alerts (HIGH); the same one still being retried does not', async () => {
    const errors = reporter();
    const unreachable = () => new AppError('ai_unavailable', 'openai: cannot reach the API (ECONNREFUSED)');
    await errors.report(unreachable(), { context: { model: 'gpt-test' } });
    await errors.report(new AppError('ai_rate_limited', 'HTTP 429 rate limited'), { givenUp: true });
    expect(smtp.messages).toHaveLength(0);
    expect(sink.requests).toHaveLength(0);
    await errors.report(unreachable(), { givenUp: true, scope: 'gpt-test', context: { model: 'gpt-test' } });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.headers.subject).toContain('HIGH AI error: ai_unavailable');
    expect(mail!.text).toContain('Further AI/ai_unavailable alerts for gpt-test are muted for 60 minutes');
    expect(sink.requests).toHaveLength(1);
    expect(
      capture
        .lines()
        .filter((l) => l.severity)
        .map((l) => l.severity),
    ).toEqual(['MEDIUM', 'MEDIUM', 'HIGH']);
  });

  it('throttles per type and scope: one alert per model in an outage, however many messages fail', async () => {
    const prefix = `test-${randomUUID()}`;
    const first = reporter(await redisLocks(prefix));
    const second = reporter(await redisLocks(prefix));
    const fail = (model: string, by: ErrorReporter) =>
      by.report(new AppError('ai_unavailable', 'down'), { givenUp: true, scope: model });
    await Promise.all(Array.from({ length: 10 }, (_, i) => fail('model-a', i % 2 === 0 ? first : second)));
    await smtp.waitForMessages(1);
    expect(sink.requests).toHaveLength(1);
    await fail('model-b', first);
    await smtp.waitForMessages(2);
    expect(sink.requests).toHaveLength(2);
    expect(sink.requests.map((r) => (r.json as { text: string }).text)).toEqual([
      expect.stringContaining('alerts for model-a are muted'),
      expect.stringContaining('alerts for model-b are muted'),
    ]);
    await fail('model-a', second);
    await fail('model-b', second);
    expect(sink.requests).toHaveLength(2);
    expect(smtp.messages).toHaveLength(2);
  });

  it('alerts again for the same type once the throttle window has passed', async () => {
    const locks = createMemoryLocks();
    const errors = createErrorReporter({
      log: capture.log,
      locks,
      alerters: [createWebhookAlerter(sink.url)],
      throttleMs: 50,
    });
    await errors.report(new AppError('ai_auth', 'bad key'));
    await errors.report(new AppError('ai_auth', 'bad key'));
    expect(sink.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await errors.report(new AppError('ai_auth', 'bad key'));
    expect(sink.requests).toHaveLength(2);
  });

  it('throttles in the process when the shared throttle is unreachable, rather than paging for every error', async () => {
    const deadPort = await freePort();
    const redis = createRedis(`redis://127.0.0.1:${deadPort}`, { purpose: 'commands' });
    redisClients.push(redis);
    const errors = reporter(createRedisLocks(redis, { prefix: 'unreachable' }));
    await errors.report(new AppError('database_unavailable', 'down'));
    await errors.report(new AppError('database_unavailable', 'down'));
    await smtp.waitForMessages(1);
    expect(smtp.messages).toHaveLength(1);
    expect(sink.requests).toHaveLength(1);
    expect(capture.lines().some((l) => l.msg?.startsWith('alert throttle unavailable'))).toBe(true);
  });
});

describe('error reporter: a failing alert channel', () => {
  it('a mail server that refuses the message does not throw, is logged, and the webhook still gets the alert', async () => {
    smtp.failAt('mail', '554 5.7.1 relaying denied');
    await expect(reporter().report(new AppError('ai_auth', 'bad key'))).resolves.toBeUndefined();
    expect(sink.requests).toHaveLength(1);
    const failure = capture.lines().find((l) => l.msg === 'could not send the admin alert');
    expect(failure).toMatchObject({ level: 40, alerter: 'email' });
    expect(JSON.stringify(failure)).toContain('554');
  });

  it('a mail server that refuses the login does not throw and the password is not logged', async () => {
    smtp.failAt('auth', '535 5.7.8 authentication failed');
    await expect(reporter().report(new AppError('ai_auth', 'bad key'))).resolves.toBeUndefined();
    expect(capture.lines().some((l) => l.msg === 'could not send the admin alert')).toBe(true);
    expect(capture.text()).not.toContain(SMTP_PASSWORD);
  });

  it('an unreachable mail server and an alert webhook answering 500 do not throw', async () => {
    sink.setStatus(500);
    const errors = reporter(createMemoryLocks(), [
      emailAlerter(await freePort()),
      createWebhookAlerter(sink.url),
    ]);
    await expect(errors.report(new AppError('database_unavailable', 'down'))).resolves.toBeUndefined();
    const failures = capture.lines().filter((l) => l.msg === 'could not send the admin alert');
    expect(failures.map((l) => l.alerter).sort()).toEqual(['email', 'webhook']);
    expect(JSON.stringify(failures)).toContain('HTTP 500');
  });

  it('sends nothing and logs the error when no alert channel is configured', async () => {
    await createErrorReporter({ log: capture.log, locks: createMemoryLocks(), alerters: [] }).report(
      new AppError('database_unavailable', 'down'),
    );
    expect(capture.lines()).toHaveLength(1);
    expect(smtp.messages).toHaveLength(0);
  });
});
