/**
 * Handoff end to end with the real web, worker and scheduler processes on PostgreSQL and Redis, fake Twilio, a
 * fake LLM and a webhook sink for the operators' notices: the keyword trigger, the model's handoff tool, and the
 * return to the bot after HANDOFF_IDLE_MINUTES with the operator's words (sent through the web process's HTTP API
 * with an agent's token; a viewer's is refused) in the next prompt, and the audit rows.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HANDOFF_TOOL } from '../../src/domain/handoff-tool.js';
import { createApiToken } from '../../src/db/api-tokens.js';
import { silentLogger } from '../../src/log.js';
import { compose, type Composed } from '../../src/main/compose.js';
import { startHttpSink, type HttpSink } from '../fakes/http-sink.js';
import type { FakeRequest } from '../fakes/llm-server.js';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const HANDOFF_MESSAGE = 'Thanks! A person from our team will reply here.';

let deployment: ProcessDeployment;
let sink: HttpSink;
/** This process's own composition on the same database and Redis: what the admin or the API would call. */
let operatorSide: Composed;

beforeAll(async () => {
  sink = await startHttpSink();
  deployment = await createProcessDeployment({
    HANDOFF_MESSAGE,
    HANDOFF_IDLE_MINUTES: '1',
    SWEEP_INTERVAL_SECONDS: '1',
    ALERT_WEBHOOK_URL: sink.url,
  });
  await Promise.all([deployment.start('web'), deployment.start('worker'), deployment.start('scheduler')]);
  operatorSide = await compose(loadConfig(deployment.env), silentLogger(), { migrate: false });
}, 90_000);
afterAll(async () => {
  await operatorSide.close();
  await deployment.close();
  await sink.close();
});
beforeEach((context) => {
  deployment.llm.reset();
  context.onTestFailed(() => deployment.printOutput());
});

let senders = 0;
const newSender = () => `whatsapp:+1415777${String((process.pid % 100) * 100 + ++senders).padStart(4, '0')}`;

async function post(from: string, body: string): Promise<void> {
  const response = await deployment.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }));
  expect(response.status).toBe(200);
}
const sentTo = (to: string) => deployment.twilio.sent.filter((m) => m.to === to).map((m) => m.body);
const asked = (content: string) =>
  deployment.llm.requests.filter((r) => r.messages.some((m) => m.role === 'user' && m.content === content));

/** The outcome of the user's message with this text, once it has one (the positive signal before absences). */
async function outcomeOf(from: string, body: string): Promise<[string, string | null]> {
  return eventually(`an outcome for "${body}"`, async () => {
    const [row] = await deployment.query<{ processing_status: string; outcome_reason: string | null }>(
      `select m.processing_status, m.outcome_reason from messages m
       join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' and m.content = $2`,
      [from, body],
    );
    return row && row.processing_status !== 'pending'
      ? ([row.processing_status, row.outcome_reason] as [string, string | null])
      : undefined;
  });
}
async function conversationOf(from: string): Promise<{ id: string; mode: string }> {
  const [row] = await deployment.query<{ id: string; mode: string }>(
    'select id, mode from conversations where user_address = $1',
    [from],
  );
  if (!row) throw new Error(`no conversation for ${from}`);
  return row;
}

describe('handoff with the real processes', { timeout: 90_000 }, () => {
  it('keyword: HANDOFF_MESSAGE reaches Twilio once, operators are told, no model call for it or for later messages', async () => {
    const from = newSender();
    await post(from, 'Can I talk to a HUMANO please');
    expect(await outcomeOf(from, 'Can I talk to a HUMANO please')).toEqual(['notice', 'handoff_requested']);
    await eventually('the handoff message', () =>
      Promise.resolve(sentTo(from).length > 0 ? true : undefined),
    );
    const conversation = await conversationOf(from);
    expect(conversation.mode).toBe('human');
    const notice = await eventually('the operators notice', () =>
      Promise.resolve(sink.requests.find((r) => r.body.includes(conversation.id))),
    );
    expect(notice.body).toContain('Conversation needs a human');
    expect(notice.body).toContain(`${deployment.webUrl}/admin/conversations/${conversation.id}`);

    await post(from, 'hello? anyone?');
    expect(await outcomeOf(from, 'hello? anyone?')).toEqual(['skipped', 'mode_human']);
    expect(sentTo(from)).toEqual([HANDOFF_MESSAGE]);
    expect(asked('Can I talk to a HUMANO please')).toEqual([]);
    expect(asked('hello? anyone?')).toEqual([]);
  });

  it("the model's handoff tool: offered on the call, the call hands off, HANDOFF_MESSAGE once and not the model's text", async () => {
    const from = newSender();
    deployment.llm.respond(() => ({
      text: 'I will transfer you.',
      toolCalls: [{ name: 'handoff', arguments: { reason: 'refund above the limit' } }],
    }));
    await post(from, 'I want a refund of 5000');
    expect(await outcomeOf(from, 'I want a refund of 5000')).toEqual(['notice', 'handoff_by_model']);
    const [request] = asked('I want a refund of 5000');
    expect(request?.tools).toEqual([
      { name: 'handoff', description: HANDOFF_TOOL.description, parameters: HANDOFF_TOOL.parameters },
    ]);
    await eventually('the handoff message', () =>
      Promise.resolve(sentTo(from).length > 0 ? true : undefined),
    );
    const conversation = await conversationOf(from);
    expect(conversation.mode).toBe('human');
    const calls = await deployment.query<{ outcome: string }>(
      'select outcome from model_calls where conversation_id = $1',
      [conversation.id],
    );
    expect(calls).toEqual([{ outcome: 'used' }]);
    const [audit] = await deployment.query<{ actor_name: string; details: { reason: string } }>(
      `select actor_name, details from audit_log where target_id = $1 and action = 'conversation.mode'`,
      [conversation.id],
    );
    expect(audit).toMatchObject({
      actor_name: 'model',
      details: { reason: 'model: refund above the limit' },
    });
    // A later message in human mode: no model call, nothing sent.
    await post(from, 'so?');
    expect(await outcomeOf(from, 'so?')).toEqual(['skipped', 'mode_human']);
    expect(asked('so?')).toEqual([]);
    expect(sentTo(from)).toEqual([HANDOFF_MESSAGE]);
  });

  it("after HANDOFF_IDLE_MINUTES the scheduler gives it back to the bot, whose next prompt holds the operator's words and the user's", async () => {
    const from = newSender();
    await post(from, 'agent');
    expect(await outcomeOf(from, 'agent')).toEqual(['notice', 'handoff_requested']);
    const conversation = await conversationOf(from);
    // The operator answers through the web process's API, with an agent's token; a viewer's token is refused.
    const db = operatorSide.deps.db;
    const agent = await createApiToken(db, { name: `helpdesk-${process.pid}`, role: 'agent' });
    const viewer = await createApiToken(db, { name: `bi-${process.pid}`, role: 'viewer' });
    const api = (token: string, body: unknown) =>
      fetch(`${deployment.webUrl}/api/v1/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await api(viewer.token, { text: 'I may only read' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    const accepted = await api(agent.token, { text: 'Olga here: your parcel left today.' });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({
      message: { direction: 'outbound', author: 'operator', text: 'Olga here: your parcel left today.' },
    });
    const replies = await deployment.query<{ actor_kind: string; actor_name: string }>(
      `select actor_kind, actor_name from audit_log where target_id = $1 and action = 'conversation.reply'`,
      [conversation.id],
    );
    expect(replies).toEqual([{ actor_kind: 'token', actor_name: `token helpdesk-${process.pid}` }]);
    await eventually('the operator message at Twilio', () =>
      Promise.resolve(sentTo(from).includes('Olga here: your parcel left today.') ? true : undefined),
    );
    expect(sentTo(from)).not.toContain('I may only read');
    await post(from, 'thanks Olga');
    expect(await outcomeOf(from, 'thanks Olga')).toEqual(['skipped', 'mode_human']);

    // A minute of silence from the operator, without waiting for it: the handoff and the message are aged.
    await deployment.query(
      `update conversations set handoff_at = now() - interval '2 minutes',
         last_operator_message_at = now() - interval '2 minutes' where id = $1`,
      [conversation.id],
    );
    await eventually('the return to the bot', async () =>
      (await conversationOf(from)).mode === 'bot' ? true : undefined,
    );
    // The audit row is written just after the switch commits: waited for, not read at once.
    const audit = await eventually('the audit row of the return', async () => {
      const [row] = await deployment.query<{ actor_kind: string; details: { reason: string } }>(
        `select actor_kind, details from audit_log where target_id = $1 and details->>'to' = 'bot'`,
        [conversation.id],
      );
      return row;
    });
    expect(audit).toMatchObject({ actor_kind: 'system', details: { reason: 'idle' } });

    await post(from, 'when will it arrive?');
    expect(await outcomeOf(from, 'when will it arrive?')).toEqual(['answered', null]);
    const [request] = asked('when will it arrive?') as [FakeRequest];
    expect(request.messages.filter((m) => m.role !== 'system')).toEqual([
      { role: 'user', content: 'agent' },
      { role: 'assistant', content: 'Olga here: your parcel left today.' },
      { role: 'user', content: 'thanks Olga' },
      { role: 'user', content: 'when will it arrive?' },
    ]);
    expect(request.tools.map((t) => t.name)).toEqual(['handoff']);
    await eventually('the bot reply', () =>
      Promise.resolve(sentTo(from).includes('fake reply to: when will it arrive?') ? true : undefined),
    );
  });
});
