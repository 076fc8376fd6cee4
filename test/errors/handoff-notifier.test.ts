/**
 * Operators hear of a handoff through the real email and webhook alerters, against the fake SMTP server and the
 * webhook sink: the notice's own subject and text with the link, once per conversation per window.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmailAlerter } from '../../src/errors/email-alerter.js';
import { createHandoffNotifier } from '../../src/errors/handoff-notifier.js';
import { createWebhookAlerter } from '../../src/errors/webhook-alerter.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import { startFakeSmtp, type FakeSmtp } from '../fakes/smtp-server.js';
import { captureLog } from './capture-log.js';

let smtp: FakeSmtp;
let sink: HttpSink;
beforeAll(async () => {
  [smtp, sink] = await Promise.all([startFakeSmtp(), startHttpSink()]);
});
afterAll(async () => {
  await Promise.all([smtp.close(), sink.close()]);
});
beforeEach(() => {
  smtp.reset();
  sink.reset();
});

const alerters = () => [
  createEmailAlerter({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    user: undefined,
    password: undefined,
    from: 'Chatbot <alerts@example.test>',
    to: ['team@example.test'],
  }),
  createWebhookAlerter(sink.url),
];

const event = (conversationId: string) => ({
  conversationId,
  profileName: 'Ada',
  userAddress: 'whatsapp:+15551234567',
  reason: 'keyword',
  actorName: 'system',
});
const ID = 'c0ffee00-0000-4000-8000-000000000001';

describe('handoff notices', () => {
  it('go by email and webhook with their own subject, the reason and the link to the conversation', async () => {
    const notify = createHandoffNotifier({
      alerters: alerters(),
      locks: createMemoryLocks(),
      log: captureLog().log,
      publicBaseUrl: 'https://bot.example.com',
    });
    await notify(event(ID));
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.headers.subject).toBe(
      '[whatsapp-ai-chatbot] Conversation needs a human: Ada (whatsapp:+15551234567)',
    );
    expect(mail?.text).toContain('reason: the user asked for a person');
    expect(mail?.text).toContain(`https://bot.example.com/admin/conversations/${ID}`);
    expect(mail?.text).not.toMatch(/error/i);
    const [post] = await sink.waitForRequests(1);
    const body = post?.json as { text: string; blocks: Array<{ text: { text: string } }> };
    expect(body.text).toContain('Conversation needs a human: Ada');
    expect(body.text).toContain(`https://bot.example.com/admin/conversations/${ID}`);
    expect(body.blocks[0]?.text.text).toBe('Conversation needs a human: Ada (whatsapp:+15551234567)');
  });

  it("escape Slack's control characters in the webhook's text: a profile name cannot ping a channel or plant a link", async () => {
    const notify = createHandoffNotifier({
      alerters: [createWebhookAlerter(sink.url)],
      locks: createMemoryLocks(),
      log: captureLog().log,
      publicBaseUrl: undefined,
    });
    await notify({ ...event(ID), profileName: '<!channel> <https://evil.example|Open> & co' });
    const [post] = await sink.waitForRequests(1);
    const body = post?.json as { text: string };
    expect(body.text).toContain('&lt;!channel&gt; &lt;https://evil.example|Open&gt; &amp; co');
    expect(body.text).not.toContain('<!channel>');
  });

  it('are throttled per conversation: a second handoff of the same one within the window is muted, another conversation is not', async () => {
    const capture = captureLog('debug');
    const notify = createHandoffNotifier({
      alerters: [createWebhookAlerter(sink.url)],
      locks: createMemoryLocks(),
      log: capture.log,
      publicBaseUrl: undefined,
    });
    await notify(event(ID));
    await notify(event(ID));
    await notify(event('c0ffee00-0000-4000-8000-000000000002'));
    expect(sink.requests).toHaveLength(2);
    expect(capture.lines().filter((l) => l.msg?.startsWith('handoff notice muted'))).toHaveLength(1);
    // Without PUBLIC_BASE_URL there is no link to give.
    expect(sink.requests[0]?.body).not.toContain('http');
  });

  it('a channel that fails is logged and the others still get it; the notifier never rejects', async () => {
    const capture = captureLog('debug');
    sink.setStatus(500);
    const notify = createHandoffNotifier({
      alerters: alerters(),
      locks: { claimOnce: () => Promise.reject(new Error('Redis down')) },
      log: capture.log,
      publicBaseUrl: undefined,
    });
    await expect(notify(event(ID))).resolves.toBeUndefined();
    await smtp.waitForMessages(1);
    const failures = capture.lines().filter((l) => l.msg === 'could not send the handoff notice');
    expect(failures.map((l) => l.alerter)).toEqual(['webhook']);
    // Redis down: the throttle holds in this process.
    await notify(event(ID));
    expect(smtp.messages).toHaveLength(1);
  });
});
