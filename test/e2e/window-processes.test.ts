/**
 * WhatsApp's 24-hour window with the real web and worker processes on PostgreSQL and Redis, fake Twilio and LLM,
 * through the HTTP API as an integration uses it: a text to a conversation silent for 25 hours goes out as
 * WINDOW_TEMPLATE, and a 63016 status callback after an accepted send is matched, shown and followed by one
 * template (stored by the web process answering the callback, sent by the worker).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createApiToken } from '../../src/db/api-tokens.js';
import { silentLogger } from '../../src/log.js';
import { compose, type Composed } from '../../src/main/compose.js';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';

const TEMPLATE = `HX${'9'.repeat(32)}`;
const VARIABLES = '{"1":"friend"}';

let deployment: ProcessDeployment;
let tokenSide: Composed;
let token: string;

beforeAll(async () => {
  deployment = await createProcessDeployment({
    WINDOW_TEMPLATE: TEMPLATE,
    WINDOW_TEMPLATE_VARIABLES: VARIABLES,
  });
  await Promise.all([deployment.start('web'), deployment.start('worker')]);
  tokenSide = await compose(loadConfig(deployment.env), silentLogger(), { migrate: false });
  ({ token } = await createApiToken(tokenSide.deps.db, { name: 'crm', role: 'agent' }));
}, 90_000);
afterAll(async () => {
  await tokenSide.close();
  await deployment.close();
});
beforeEach((context) => {
  context.onTestFailed(() => deployment.printOutput());
});

let senders = 0;
const newSender = () => `whatsapp:+1415444${String((process.pid % 100) * 100 + ++senders).padStart(4, '0')}`;
const sentTo = (to: string) => deployment.twilio.sent.filter((m) => m.to === to);

async function api(method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${deployment.webUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  return { status: response.status, body: await response.json() };
}

/** A conversation whose user wrote and got the bot's reply. */
async function answered(from: string): Promise<string> {
  const response = await deployment.postSigned(
    '/api/whatsapp/webhook/',
    inboundParams({ From: from, Body: 'hi' }),
  );
  expect(response.status).toBe(200);
  await eventually('the bot’s reply at Twilio', () =>
    Promise.resolve(sentTo(from).length > 0 ? true : undefined),
  );
  const [row] = await deployment.query<{ id: string }>(
    'select id from conversations where user_address = $1',
    [from],
  );
  if (!row) throw new Error(`no conversation for ${from}`);
  return row.id;
}

interface Message {
  id: string;
  kind: string;
  status: string | null;
  error: { code: string; outsideWindow: boolean } | null;
  windowTemplate: Record<string, unknown> | null;
}

describe('the 24-hour window with the real processes', { timeout: 90_000 }, () => {
  it('sends a text to a conversation silent for 25 hours as the window template', async () => {
    const from = newSender();
    const id = await answered(from);
    await deployment.query(
      `update conversations set last_inbound_at = now() - interval '25 hours' where id = $1`,
      [id],
    );
    const conversation = await api('GET', `/conversations/${id}`);
    expect(conversation.body).toMatchObject({ window: { open: false } });

    const sent = (await api('POST', `/conversations/${id}/messages`, {
      text: 'We have news about your order.',
    })) as { status: number; body: { message: Message } };
    expect(sent.status).toBe(202);
    expect(sent.body.message).toMatchObject({
      kind: 'template',
      windowTemplate: { reason: 'outside_window' },
    });
    const template = await eventually('the template at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.contentSid === TEMPLATE)),
    );
    expect(template.contentVariables).toBe(VARIABLES);
    const request = deployment.twilio.requests.find(
      (r) => r.params.ContentSid === TEMPLATE && r.params.To === from,
    );
    expect(request?.params.Body).toBeUndefined();
    expect(sentTo(from).some((m) => m.body === 'We have news about your order.')).toBe(false);
  });

  it('follows a 63016 callback after an accepted send with exactly one template', async () => {
    const from = newSender();
    const id = await answered(from);
    const sent = (await api('POST', `/conversations/${id}/messages`, {
      text: 'Your invoice is attached below.',
    })) as { status: number; body: { message: Message } };
    expect(sent.status).toBe(202);
    const accepted = await eventually('the text at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === 'Your invoice is attached below.')),
    );
    await eventually('its SID stored', async () =>
      (await deployment.query('select 1 from deliveries where provider_message_id = $1', [accepted.sid]))
        .length > 0
        ? true
        : undefined,
    );
    expect((await deployment.twilio.deliverStatus(accepted.sid, 'undelivered', '63016')).status).toBe(200);
    expect((await deployment.twilio.deliverStatus(accepted.sid, 'undelivered', '63016')).status).toBe(200);

    const template = await eventually('the window template at Twilio', () =>
      Promise.resolve(sentTo(from).find((m) => m.contentSid === TEMPLATE)),
    );
    const thread = (await api('GET', `/conversations/${id}/messages`)) as { body: { messages: Message[] } };
    expect(thread.body.messages.find((m) => m.id === sent.body.message.id)).toMatchObject({
      status: 'undelivered',
      error: { code: '63016', outsideWindow: true },
    });
    expect(thread.body.messages.at(-1)).toMatchObject({
      kind: 'template',
      windowTemplate: { reason: 'window_failure', failedMessageId: sent.body.message.id },
    });

    // The template itself refused with 63016: recorded once its SID is, and followed by nothing.
    await eventually('the template’s SID stored', async () =>
      (await deployment.query('select 1 from deliveries where provider_message_id = $1', [template.sid]))
        .length > 0
        ? true
        : undefined,
    );
    expect((await deployment.twilio.deliverStatus(template.sid, 'failed', '63016')).status).toBe(200);
    const fallbacks = await deployment.query(
      `select 1 from messages where conversation_id = $1 and outbound_key like 'window-fallback:%'`,
      [id],
    );
    expect(fallbacks).toHaveLength(1);
    expect(sentTo(from).filter((m) => m.contentSid !== undefined)).toHaveLength(1);
  });
});
