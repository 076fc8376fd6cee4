/**
 * Opt-out end to end with the real web and worker processes on PostgreSQL and Redis, fake Twilio and a fake LLM:
 * STOP gets one confirmation and no model call, later messages are stored and not answered, an operator's API
 * reply is refused with 409 `opted_out` and nothing reaches Twilio, START lifts it and the bot answers again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createApiToken } from '../../src/db/api-tokens.js';
import { silentLogger } from '../../src/log.js';
import { compose, type Composed } from '../../src/main/compose.js';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const OPT_OUT_MESSAGE = 'Unsubscribed: reply START to come back.';
const OPT_IN_MESSAGE = 'Welcome back!';

let deployment: ProcessDeployment;
/** This process's own composition on the same database: for the API token. */
let operatorSide: Composed;
let token: string;

beforeAll(async () => {
  deployment = await createProcessDeployment({ OPT_OUT_MESSAGE, OPT_IN_MESSAGE });
  await Promise.all([deployment.start('web'), deployment.start('worker')]);
  operatorSide = await compose(loadConfig(deployment.env), silentLogger(), { migrate: false });
  ({ token } = await createApiToken(operatorSide.deps.db, { name: 'e2e-optout', role: 'agent' }));
}, 90_000);
afterAll(async () => {
  await operatorSide.close();
  await deployment.close();
});
beforeEach((context) => {
  context.onTestFailed(() => deployment.printOutput());
});

const from = `whatsapp:+1415666${String(process.pid % 10_000).padStart(4, '0')}`;
async function post(body: string): Promise<void> {
  const response = await deployment.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }));
  expect(response.status).toBe(200);
}
const sent = () => deployment.twilio.sent.filter((m) => m.to === from).map((m) => m.body);
const asked = (content: string) =>
  deployment.llm.requests.filter((r) => r.messages.some((m) => m.role === 'user' && m.content === content));
async function outcomeOf(body: string): Promise<[string, string | null]> {
  return eventually(`an outcome for "${body}"`, async () => {
    const [row] = await deployment.query<{ processing_status: string; outcome_reason: string | null }>(
      `select m.processing_status, m.outcome_reason from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' and m.content = $2`,
      [from, body],
    );
    return row && row.processing_status !== 'pending'
      ? ([row.processing_status, row.outcome_reason] as [string, string | null])
      : undefined;
  });
}

describe('opt-out with the real processes', { timeout: 90_000 }, () => {
  it('STOP → one confirmation, no model call → not answered → API reply 409 → START → answered again', async () => {
    await post('hi there');
    expect(await outcomeOf('hi there')).toEqual(['answered', null]);
    await eventually('the first reply', () => Promise.resolve(sent().length > 0 ? true : undefined));

    await post('Stop!');
    expect(await outcomeOf('Stop!')).toEqual(['notice', 'opt_out']);
    await eventually('the confirmation', () =>
      Promise.resolve(sent().includes(OPT_OUT_MESSAGE) ? true : undefined),
    );
    await post('hello?');
    expect(await outcomeOf('hello?')).toEqual(['skipped', 'opted_out']);
    expect(asked('Stop!')).toEqual([]);
    expect(asked('hello?')).toEqual([]);

    const [conversation] = await deployment.query<{ id: string }>(
      'select id from conversations where user_address = $1',
      [from],
    );
    const response = await fetch(`${deployment.webUrl}/api/v1/conversations/${conversation!.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'we miss you' }),
    });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('opted_out');

    await post('START');
    expect(await outcomeOf('START')).toEqual(['notice', 'opt_in']);
    await eventually('the opt-in confirmation', () =>
      Promise.resolve(sent().includes(OPT_IN_MESSAGE) ? true : undefined),
    );
    expect(asked('START')).toEqual([]);
    await post('what are your hours?');
    expect(await outcomeOf('what are your hours?')).toEqual(['answered', null]);
    await eventually('the answer after START', () =>
      Promise.resolve(sent().includes('fake reply to: what are your hours?') ? true : undefined),
    );
    // Everything that reached the user, in order: the confirmation went once, the operator's text never.
    expect(sent()).toEqual([
      'fake reply to: hi there',
      OPT_OUT_MESSAGE,
      OPT_IN_MESSAGE,
      'fake reply to: what are your hours?',
    ]);
  });
});
