/**
 * Opt-out against the whole app (web, worker, scheduler in one process) with fake Twilio and LLM: the API's
 * conversation shows it and refuses an operator's message with 409 `opted_out`; Twilio's 21610, on a send or in a
 * status callback, records it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { answeredConversation, callApi, newSender, tokenFor, type TestToken } from '../helpers/api.js';
import { inboundParams } from '../helpers/twilio.js';

const OPT_OUT_MESSAGE = 'You are unsubscribed. Reply START to receive messages again.';

let app: TestApp;
let agent: TestToken;
beforeAll(async () => {
  app = await startTestApp({ OPT_OUT_MESSAGE });
  agent = await tokenFor(app, 'agent', 'helpdesk');
}, 60_000);
afterAll(() => app.stop());

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to).map((m) => m.body);
const optOutOf = async (address: string) =>
  (
    await app.query<{ source: string; keyword: string | null }>(
      `select source, keyword from opt_outs where channel = 'twilio' and address = $1`,
      [address],
    )
  )[0];
const reply = (id: string, text: string) =>
  callApi<{ error: { code: string; message: string } }>(app, 'POST', `/conversations/${id}/messages`, {
    token: agent.token,
    json: { text },
  });

describe('opt-out through the API', () => {
  it('STOP: the conversation says so, and an operator message is refused with 409 opted_out, nothing sent', async () => {
    const from = newSender('1415777');
    const id = await answeredConversation(app, from);
    await app.postSigned('/api/whatsapp/webhook/', inboundParams({ From: from, Body: 'STOP' }));
    await eventually('the confirmation at Twilio', () =>
      Promise.resolve(sentTo(from).includes(OPT_OUT_MESSAGE) ? true : undefined),
    );
    const shown = await callApi(app, 'GET', `/conversations/${id}`, {
      token: agent.token,
    });
    expect(shown.body).toMatchObject({
      optedOut: true,
      optOutSource: 'keyword',
      optOutKeyword: 'STOP',
    });
    expect(Date.parse(String(shown.body.optedOutAt))).toBeGreaterThan(Date.now() - 60_000);

    const refused = await reply(id, 'a message they asked not to get');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('opted_out');
    const stored = await app.query(
      `select 1 from messages where content = 'a message they asked not to get'`,
    );
    expect(stored).toEqual([]);
    expect(sentTo(from).filter((b) => b === OPT_OUT_MESSAGE)).toHaveLength(1);
  });

  it("Twilio's 21610 on a send records the opt-out (provider:21610); the next operator message is refused", async () => {
    const from = newSender('1415777');
    const id = await answeredConversation(app, from);
    app.twilio.failNext(1, {
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
    });
    const accepted = await reply(id, 'first try');
    expect(accepted.status).toBe(202);
    const recorded = await eventually('the opt-out from 21610', () => optOutOf(from));
    expect(recorded).toEqual({ source: 'provider:21610', keyword: null });
    const [part] = await app.query<{ status: string; error_code: string }>(
      `select d.status, d.error_code from deliveries d join messages m on m.id = d.message_id
       where m.content = 'first try'`,
    );
    expect(part).toEqual({ status: 'failed', error_code: '21610' });
    expect((await reply(id, 'second try')).status).toBe(409);
    expect(sentTo(from)).not.toContain('first try');
  });

  it("Twilio's 21610 in a status callback records the opt-out", async () => {
    const from = newSender('1415777');
    await answeredConversation(app, from);
    const sent = app.twilio.sent.find((m) => m.to === from);
    expect(sent).toBeDefined();
    expect((await app.twilio.deliverStatus(sent!.sid, 'failed', '21610')).status).toBe(200);
    expect(await eventually('the opt-out from the callback', () => optOutOf(from))).toEqual({
      source: 'provider:21610',
      keyword: null,
    });
  });
});
