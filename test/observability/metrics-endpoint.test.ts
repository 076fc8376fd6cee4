import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/tcp-proxy.js';
import { inboundParams } from '../helpers/twilio.js';
import { parseExposition, valueOf, type Sample } from './scrape.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const TOKEN = 'metrics-token-for-tests';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ METRICS_TOKEN: TOKEN });
});
afterAll(async () => {
  await app.stop();
});
beforeEach(() => {
  app.twilio.reset();
  app.llm.reset();
});

async function scrape(url = app.url): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);

describe('GET /metrics', () => {
  it('answers 401 without the bearer token or with a wrong one', async () => {
    const bare = await fetch(`${app.url}/metrics`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await bare.text()).not.toContain('chatbot_');
    const wrong = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${app.url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  it('counts a message through webhook, queue, LLM, send and delivery callback, with the right labels', async () => {
    const before = await scrape();
    const from = 'whatsapp:+14155550901';
    app.llm.respond(() => ({ text: 'measured reply', usage: { input: 17, output: 5 } }));
    expect(
      (await app.postSigned(WEBHOOK, inboundParams({ From: from, To: BUSINESS_NUMBER, Body: 'count me' })))
        .status,
    ).toBe(200);
    const [reply] = await eventually('the reply', () =>
      Promise.resolve(sentTo(from).length > 0 ? sentTo(from) : undefined),
    );
    expect((await app.twilio.deliverStatus(reply!.sid, 'delivered')).status).toBe(200);
    const forged = await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'forged' }), {
      signature: 'AAAA',
    });
    expect(forged.status).toBe(403);

    // The job's duration is observed once the handler returns, just after the send.
    const after = await eventually('the job observed', async () => {
      const samples = await scrape();
      return valueOf(samples, 'chatbot_job_duration_seconds_count', { outcome: 'done' }) >
        valueOf(before, 'chatbot_job_duration_seconds_count', { outcome: 'done' })
        ? samples
        : undefined;
    });
    const moved = (name: string, labels: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    expect(moved('chatbot_http_requests_total', { route: WEBHOOK, method: 'POST', status: '200' })).toBe(1);
    expect(moved('chatbot_http_requests_total', { route: WEBHOOK, method: 'POST', status: '403' })).toBe(1);
    expect(
      moved('chatbot_http_requests_total', { route: '/api/whatsapp/status/', method: 'POST', status: '200' }),
    ).toBe(1);
    expect(moved('chatbot_http_request_duration_seconds_count', { route: WEBHOOK, method: 'POST' })).toBe(2);
    expect(moved('chatbot_webhook_signature_failures_total', { route: WEBHOOK })).toBe(1);
    expect(moved('chatbot_errors_total', { category: 'WEBHOOK', severity: 'LOW' })).toBe(1);
    const llm = { provider: 'openai', model: 'gpt-test' };
    expect(moved('chatbot_llm_request_duration_seconds_count', { ...llm, outcome: 'ok' })).toBe(1);
    expect(moved('chatbot_llm_tokens_total', { ...llm, direction: 'in' })).toBe(17);
    expect(moved('chatbot_llm_tokens_total', { ...llm, direction: 'out' })).toBe(5);
    expect(moved('chatbot_messages_sent_total', { channel: 'twilio', status: 'sent' })).toBe(1);
    expect(moved('chatbot_send_duration_seconds_count', { channel: 'twilio' })).toBe(1);
    expect(moved('chatbot_delivery_status_total', { channel: 'twilio', status: 'delivered' })).toBe(1);
    expect(moved('chatbot_job_duration_seconds_count', { outcome: 'done' })).toBeGreaterThanOrEqual(1);
    // Queue depth is read from the queue at scrape time; Node's process metrics are there too.
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(after.some((s) => s.name === 'chatbot_queue_jobs' && s.labels.state === state)).toBe(true);
    expect(valueOf(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts LLM and channel failures as errors of their category and severity', async () => {
    const before = await scrape();
    const first = 'whatsapp:+14155550902';
    app.llm.respond(() => ({ status: 401, errorMessage: 'Incorrect API key provided' }));
    await app.postSigned(WEBHOOK, inboundParams({ From: first, Body: 'hi' }));
    await eventually('the apology', () => Promise.resolve(sentTo(first).length > 0 ? true : undefined));

    app.llm.reset();
    const second = 'whatsapp:+14155550903';
    app.twilio.failNext(1, { status: 400, code: 63016, message: 'outside the allowed window' });
    await app.postSigned(WEBHOOK, inboundParams({ From: second, Body: 'hi' }));
    const after = await eventually('the refusal counted', async () => {
      const samples = await scrape();
      return valueOf(samples, 'chatbot_messages_sent_total', { channel: 'twilio', status: 'rejected' }) >
        valueOf(before, 'chatbot_messages_sent_total', { channel: 'twilio', status: 'rejected' })
        ? samples
        : undefined;
    });
    const moved = (name: string, labels: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    const llm = { provider: 'openai', model: 'gpt-test' };
    expect(
      moved('chatbot_llm_request_duration_seconds_count', { ...llm, outcome: 'ai_auth' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('chatbot_errors_total', { category: 'AI', severity: 'CRITICAL' })).toBeGreaterThanOrEqual(1);
    expect(moved('chatbot_messages_sent_total', { channel: 'twilio', status: 'rejected' })).toBe(1);
    expect(moved('chatbot_errors_total', { category: 'WHATSAPP', severity: 'LOW' })).toBe(1);
  });
});

describe('a worker-only process', () => {
  it('serves /metrics and /health/ on METRICS_PORT when it has no web server', async () => {
    const port = await freePort();
    const worker = await startTestApp({ METRICS_PORT: String(port) }, ['worker']);
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/health/`)).status).toBe(200);
      const response = await fetch(`${base}/metrics`);
      expect(response.status).toBe(200);
      const samples = parseExposition(await response.text());
      expect(samples.some((s) => s.name === 'chatbot_queue_jobs' && s.labels.state === 'waiting')).toBe(true);
      expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
