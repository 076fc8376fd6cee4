/**
 * Opt-out on a real PostgreSQL with the in-process adapters and the simulator channel: STOP confirmed once and no
 * model call, later messages stored but not answered, an operator refused with `opted_out`, START lifting it, HELP,
 * a reply stored before the STOP never delivered, a reset context keeping the opt-out, and a handoff that tells
 * an opted-out user nothing.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorChannel } from '../../src/channels/simulator/channel.js';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound, saveReply } from '../../src/db/messages.js';
import { conversationOptOut, recordOptOut } from '../../src/db/opt-outs.js';
import { rowsOf } from '../../src/db/rows.js';
import { isAppError } from '../../src/domain/errors.js';
import { CONSENT_DEFAULTS } from '../../src/domain/opt-out.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { resetContext } from '../../src/inbox/reset-context.js';
import { sendAsOperator } from '../../src/inbox/send-as-operator.js';
import { switchMode } from '../../src/inbox/switch-mode.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { sendOutbound } from '../../src/pipeline/send-outbound.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { ChatModel, ChatRequest, JobContext } from '../../src/ports.js';
import { inbound, plainReply } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';
import { fixedAi, numbersOf } from '../helpers/pipeline-deps.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
});
afterAll(() => database.close());

const consent = {
  ...CONSENT_DEFAULTS,
  optOutMessage: 'Unsubscribed. Reply START to come back.',
  optInMessage: 'Welcome back.',
  helpMessage: 'Ask anything; STOP to stop.',
};
const settings = pipelineSettings({ maxHistory: 20, handoffKeywords: ['human'], consent });

function setup() {
  const requests: ChatRequest[] = [];
  const model: ChatModel = {
    provider: 'scripted',
    model: 'scripted-1',
    complete(request) {
      requests.push(request);
      const users = request.messages.filter((m) => m.role === 'user').map((m) => m.content);
      return Promise.resolve({
        text: `re: ${users.at(-1) ?? ''}`,
        model: 'scripted-1',
        usage: { inputTokens: 1, outputTokens: 1 },
      });
    },
  };
  const channel = createSimulatorChannel();
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const deps = {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    locks: createMemoryLocks(),
    context: createMemoryContextCache({ maxTurns: 20, ttlSeconds: 600 }),
    limiter: createMemoryRateLimiter(),
    ai: fixedAi(() => Promise.resolve({ model, systemPrompt: 'be brief', temperature: 0.2, maxTokens: 100 })),
    numbers: numbersOf(db),
    channelFor: () => channel,
    log: silentLogger(),
    settings,
  };
  const sentBodies = (to: string) => channel.sent(to).map((m) => m.body);
  return { deps, channel, requests, sentBodies };
}

const context = (): JobContext => ({ jobId: 'j', attempt: 1, maxAttempts: 3 });
type Deps = ReturnType<typeof setup>['deps'];
const run = (deps: Deps, ids: { conversationId: string; messageId: string }) =>
  processConversation(deps, ids, context());
/** A user message accepted and its job run, as the webhook and the worker would. */
async function say(deps: Deps, from: string, body: string) {
  const ids = await acceptInbound(db, inbound({ from, body }));
  expect(await run(deps, ids)).toEqual({ kind: 'done' });
  return ids;
}
async function outcomes(conversationId: string) {
  const rows = rowsOf<{ content: string; processing_status: string; outcome_reason: string | null }>(
    await db.execute(sql`select content, processing_status, outcome_reason from messages
      where conversation_id = ${conversationId} and role = 'user' order by created_at`),
  );
  return rows.map((r) => [r.content, r.processing_status, r.outcome_reason]);
}
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  return isAppError(error) ? { kind: error.kind, code: error.code } : error;
}
const operator = { ...CLI_ACTOR, name: 'olga' };

describe('opting out and back in', () => {
  it('STOP: one confirmation, no model call; later messages stored, not answered; an operator refused; START lifts it', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const first = await say(deps, from, 'hi');
    expect(sentBodies(from)).toEqual(['re: hi']);
    requests.length = 0;

    await say(deps, from, '  Stop. ');
    expect(sentBodies(from)).toEqual(['re: hi', consent.optOutMessage]);
    expect(requests).toEqual([]);
    const state = await conversationOptOut(db, first.conversationId);
    expect(state).toMatchObject({ source: 'keyword', keyword: 'STOP' });

    await say(deps, from, 'are you there?');
    await say(deps, from, 'STOP'); // a second STOP: nothing, not a second confirmation
    expect(
      await refusal(
        sendAsOperator(deps, {
          conversationId: first.conversationId,
          actor: operator,
          text: 'hello from the team',
          requestKey: 'k1',
        }),
      ),
    ).toEqual({ kind: 'conflict', code: 'opted_out' });
    expect(requests).toEqual([]);
    expect(sentBodies(from)).toEqual(['re: hi', consent.optOutMessage]);

    await say(deps, from, 'START');
    expect(sentBodies(from).at(-1)).toBe(consent.optInMessage);
    expect(requests).toEqual([]); // the opt-in is not otherwise answered
    expect(await conversationOptOut(db, first.conversationId)).toBeNull();
    await say(deps, from, 'and now?');
    expect(sentBodies(from).at(-1)).toBe('re: and now?');
    expect(await outcomes(first.conversationId)).toEqual([
      ['hi', 'answered', null],
      ['  Stop. ', 'notice', 'opt_out'],
      ['are you there?', 'skipped', 'opted_out'],
      ['STOP', 'skipped', 'opted_out'],
      ['START', 'notice', 'opt_in'],
      ['and now?', 'answered', null],
    ]);
  });

  it('accents, case and punctuation are ignored; a keyword inside a sentence is an ordinary message', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'stop please, what time is it?');
    expect(sentBodies(from)).toEqual(['re: stop please, what time is it?']);
    expect(requests).toHaveLength(1);
    await say(deps, from, 'CANCELÁR!');
    expect(sentBodies(from).at(-1)).toBe(consent.optOutMessage);
    expect(await conversationOptOut(db, ids.conversationId)).toMatchObject({ keyword: 'CANCELAR' });
  });

  it('"yes" from a user who never opted out goes to the model; HELP gets HELP_MESSAGE and no model call', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'Yes');
    expect(sentBodies(from)).toEqual(['re: Yes']);
    requests.length = 0;
    await say(deps, from, 'help');
    expect(sentBodies(from).at(-1)).toBe(consent.helpMessage);
    expect(requests).toEqual([]);
    expect((await outcomes(ids.conversationId)).at(-1)).toEqual(['help', 'notice', 'help']);
  });

  it('STOP is honoured and confirmed in a human conversation, before the handoff keyword; no handoff message after', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'hi');
    await switchMode(deps, {
      conversationId: ids.conversationId,
      mode: 'human',
      actor: operator,
      reason: 'operator',
    });
    await run(deps, ids); // delivers the handoff message
    expect(sentBodies(from)).toEqual(['re: hi', settings.handoffMessage]);
    await say(deps, from, 'quit');
    expect(sentBodies(from).at(-1)).toBe(consent.optOutMessage);
    // A new handoff (back to bot, then to human again) tells an opted-out user nothing, but still switches.
    await switchMode(deps, {
      conversationId: ids.conversationId,
      mode: 'bot',
      actor: operator,
      reason: 'operator',
    });
    const switched = await switchMode(deps, {
      conversationId: ids.conversationId,
      mode: 'human',
      actor: operator,
      reason: 'operator',
    });
    expect(switched.mode).toBe('human');
    await run(deps, ids);
    expect(sentBodies(from)).toEqual(['re: hi', settings.handoffMessage, consent.optOutMessage]);
  });
});

describe('consent words in one batch, in message order', () => {
  it('STOP twice in one batch: one confirmation, the second closed as opted_out', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const first = await acceptInbound(db, inbound({ from, body: 'STOP' }));
    const second = await acceptInbound(db, inbound({ from, body: 'stop' }));
    expect(await run(deps, second)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
    expect(await outcomes(first.conversationId)).toEqual([
      ['STOP', 'notice', 'opt_out'],
      ['stop', 'skipped', 'opted_out'],
    ]);
    // The job run again (a retry) confirms nothing more.
    expect(await run(deps, first)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
  });

  it('STOP then START in one batch: opted in, only the opt-in confirmed; what follows is answered', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const stop = await acceptInbound(db, inbound({ from, body: 'STOP' }));
    await acceptInbound(db, inbound({ from, body: 'START' }));
    const last = await acceptInbound(db, inbound({ from, body: 'what time is it?' }));
    expect(await run(deps, last)).toEqual({ kind: 'done' });
    expect(await conversationOptOut(db, stop.conversationId)).toBeNull();
    expect(sentBodies(from)).toEqual([consent.optInMessage, 're: what time is it?']);
    expect(requests).toHaveLength(1);
    expect(await outcomes(stop.conversationId)).toEqual([
      ['STOP', 'skipped', 'consent_superseded'],
      ['START', 'notice', 'opt_in'],
      ['what time is it?', 'answered', null],
    ]);
  });

  it('START then STOP in one batch of an opted-out user: opted out, only the opt-out confirmed', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'STOP');
    await acceptInbound(db, inbound({ from, body: 'START' }));
    const last = await acceptInbound(db, inbound({ from, body: 'quit' }));
    expect(await run(deps, last)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual([consent.optOutMessage, consent.optOutMessage]);
    expect(await conversationOptOut(db, ids.conversationId)).toMatchObject({ keyword: 'QUIT' });
    expect((await outcomes(ids.conversationId)).slice(1)).toEqual([
      ['START', 'skipped', 'consent_superseded'],
      ['quit', 'notice', 'opt_out'],
    ]);
  });

  it('a STOP that arrived while the first one was handled, in the next batch: no second confirmation', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const first = await say(deps, from, 'STOP');
    const second = await acceptInbound(db, inbound({ from, body: 'STOP' }));
    // It came in after the first STOP's batch was read, before its opt-out was recorded and confirmed.
    await db.execute(sql`update messages set created_at = (
        select created_at + interval '1 millisecond' from messages where id = ${first.messageId})
      where id = ${second.messageId}`);
    expect(await run(deps, second)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
    expect((await outcomes(first.conversationId)).at(-1)).toEqual(['STOP', 'skipped', 'opted_out']);
  });
});

describe('what was stored before the opt-out', () => {
  it('STOP written while the model is thinking: its answer is discarded, only the confirmation goes', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const base = deps.ai.current.bind(deps.ai);
    let stopped = false;
    deps.ai.current = async () => {
      const choice = await base();
      const complete = choice.model.complete.bind(choice.model);
      return {
        ...choice,
        model: {
          ...choice.model,
          async complete(request: ChatRequest) {
            if (!stopped) {
              stopped = true;
              await acceptInbound(db, inbound({ from, body: 'stop' }));
            }
            return complete(request);
          },
        },
      };
    };
    const ids = await acceptInbound(db, inbound({ from, body: 'tell me about prices' }));
    expect(await run(deps, ids)).toEqual({ kind: 'done' });
    expect(requests).toHaveLength(1);
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
    expect(await outcomes(ids.conversationId)).toEqual([
      ['tell me about prices', 'skipped', 'opted_out'],
      ['stop', 'notice', 'opt_out'],
    ]);
    const calls = rowsOf<{ outcome: string }>(
      await db.execute(sql`select outcome from model_calls where conversation_id = ${ids.conversationId}`),
    );
    expect(calls).toEqual([{ outcome: 'discarded' }]);
  });

  it('a reply stored before the STOP was handled is never delivered: failed with opted_out, the confirmation goes', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const ids = await acceptInbound(db, inbound({ from, body: 'tell me a story' }));
    // An earlier run stored its reply and died before sending it; then the user wrote STOP.
    await saveReply(db, plainReply(ids.conversationId, [ids.messageId], ['once upon a time'], from));
    const stop = await acceptInbound(db, inbound({ from, body: 'STOP' }));
    expect(await run(deps, stop)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
    const [part] = rowsOf<{ status: string; error_code: string | null }>(
      await db.execute(sql`select d.status, d.error_code from deliveries d join messages m on m.id = d.message_id
        where m.content = 'once upon a time' and d.conversation_id = ${ids.conversationId}`),
    );
    expect(part).toEqual({ status: 'failed', error_code: 'opted_out' });
  });

  it('an operator message queued before the opt-out is withheld; after START, new messages go out again', async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'hi');
    // Stored and queued, not yet delivered by the worker.
    await sendAsOperator(deps, {
      conversationId: ids.conversationId,
      actor: operator,
      text: 'a promo',
      requestKey: 'p1',
    });
    const stop = await say(deps, from, 'unsubscribe');
    expect(sentBodies(from)).toEqual(['re: hi', consent.optOutMessage]);
    await run(deps, stop);
    expect(sentBodies(from)).not.toContain('a promo');
    await say(deps, from, 'unstop');
    await sendAsOperator(deps, {
      conversationId: ids.conversationId,
      actor: operator,
      text: 'welcome',
      requestKey: 'p2',
    });
    await run(deps, ids);
    expect(sentBodies(from)).toEqual(['re: hi', consent.optOutMessage, consent.optInMessage, 'welcome']);
  });

  it("an opt-out recorded between sendOutbound's check and its store: the message is stored but never sent", async () => {
    const { deps, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'hi');
    // The interleaving forced: right after sendOutbound has read "not opted out", the user's STOP is recorded (by
    // another connection: the worker handling it), before the message is stored.
    const dialect = new PgDialect();
    let raced = false;
    const racing = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'execute') return Reflect.get(target, property, receiver) as unknown;
        return async (query: SQL) => {
          const result = await target.execute(query);
          if (!raced && dialect.sqlToQuery(query).sql.includes('from opt_outs o')) {
            raced = true;
            await recordOptOut(db, ids.conversationId, { source: 'keyword', keyword: 'STOP' });
          }
          return result;
        };
      },
    });
    const sent = await sendOutbound(
      { ...deps, db: racing },
      {
        conversationId: ids.conversationId,
        key: 'race:promo',
        author: 'operator:olga',
        content: { type: 'text', text: 'a promo' },
      },
    );
    expect(raced).toBe(true);
    expect(sent.created).toBe(true);
    expect(await run(deps, ids)).toEqual({ kind: 'done' });
    expect(sentBodies(from)).toEqual(['re: hi']);
    const [part] = rowsOf<{ status: string; error_code: string | null }>(
      await db.execute(sql`select status, error_code from deliveries where message_id = ${sent.messageId}`),
    );
    expect(part).toEqual({ status: 'failed', error_code: 'opted_out' });
  });

  it('reset context keeps the opt-out', async () => {
    const { deps, requests, sentBodies } = setup();
    const from = inbound().from;
    const ids = await say(deps, from, 'parar');
    await resetContext(deps, { conversationId: ids.conversationId, actor: CLI_ACTOR });
    await say(deps, from, 'hello again');
    expect(requests).toEqual([]);
    expect(sentBodies(from)).toEqual([consent.optOutMessage]);
    expect((await outcomes(ids.conversationId)).at(-1)).toEqual(['hello again', 'skipped', 'opted_out']);
  });

  it('a person keyed by a scoped id is listed under it and under the phone number they wrote from', async () => {
    const { deps, sentBodies } = setup();
    const phone = inbound().from;
    const userId = `whatsapp:CO.${phone.slice(-10)}`;
    const ids = await acceptInbound(db, inbound({ from: phone, userId, body: 'stop' }));
    await run(deps, ids);
    expect(sentBodies(phone)).toEqual([consent.optOutMessage]);
    const rows = rowsOf<{ address: string }>(
      await db.execute(sql`select address from opt_outs where channel = 'twilio' and address in (${phone}, ${userId})
        order by address`),
    );
    expect(rows.map((r) => r.address).sort()).toEqual([phone, userId].sort());
    // Matched by either address: a conversation keyed by the phone number alone is opted out too.
    const byPhone = await acceptInbound(db, { ...inbound({ from: phone, body: 'hi' }), channel: 'twilio' });
    expect(await conversationOptOut(db, byPhone.conversationId)).not.toBeNull();
  });
});
