/**
 * The bot's side of a handoff on a real PostgreSQL with the in-process adapters and the simulator channel: the
 * keyword trigger, the model's handoff tool, a crash between the switch and closing the messages, a pause that
 * wins over the model, operators notified, and the resumed bot reading the human period.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorChannel } from '../../src/channels/simulator/channel.js';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound } from '../../src/db/messages.js';
import { rowsOf } from '../../src/db/rows.js';
import { HANDOFF_TOOL } from '../../src/domain/handoff-tool.js';
import type { HandoffEvent } from '../../src/domain/handoff-notice.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { sendAsOperator } from '../../src/inbox/send-as-operator.js';
import { switchMode } from '../../src/inbox/switch-mode.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { ChatModel, ChatRequest, ChatResult, JobContext } from '../../src/ports.js';
import { inbound } from '../db/fixtures.js';
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

const HANDOFF_MESSAGE = 'A person from our team will answer you here.';
const settings = pipelineSettings({
  maxHistory: 20,
  handoffKeywords: ['human', 'agent', 'real person'],
  handoffMessage: HANDOFF_MESSAGE,
});

/** A tool-capable model whose answer each test scripts; it records what it was asked. */
function scriptedModel(answer: (request: ChatRequest) => Partial<ChatResult> = () => ({})) {
  const requests: ChatRequest[] = [];
  const model: ChatModel = {
    provider: 'scripted',
    model: 'scripted-1',
    supportsTools: true,
    complete(request) {
      requests.push(request);
      const users = request.messages.filter((m) => m.role === 'user').map((m) => m.content);
      return Promise.resolve({
        text: `re: ${users.at(-1) ?? ''}`,
        model: 'scripted-1',
        usage: { inputTokens: 10, outputTokens: 5 },
        ...answer(request),
      });
    },
  };
  return { model, requests };
}

function setup(model: ChatModel) {
  const channel = createSimulatorChannel();
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const notified: HandoffEvent[] = [];
  const context = createMemoryContextCache({ maxTurns: 20, ttlSeconds: 600 });
  const deps = {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    locks: createMemoryLocks(),
    context,
    limiter: createMemoryRateLimiter(),
    ai: fixedAi(() => Promise.resolve({ model, systemPrompt: 'be brief', temperature: 0.2, maxTokens: 100 })),
    numbers: numbersOf(db),
    channelFor: () => channel,
    log: silentLogger(),
    settings,
    notifyHandoff: (event: HandoffEvent) => notified.push(event),
  };
  return { deps, channel, notified, context };
}

const context = (attempt = 1): JobContext => ({ jobId: 'j', attempt, maxAttempts: 3 });
const run = (deps: ReturnType<typeof setup>['deps'], ids: { conversationId: string; messageId: string }) =>
  processConversation(deps, ids, context());

async function query<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const chunks = text.split(/\$\d+/);
  const built = chunks.reduce<ReturnType<typeof sql>>(
    (acc, chunk, i) => (i === 0 ? sql.raw(chunk) : sql`${acc}${params[i - 1]}${sql.raw(chunk)}`),
    sql.raw(''),
  );
  return rowsOf<T>(await db.execute(built));
}
const outcomes = async (conversationId: string) =>
  (
    await query<{ content: string; processing_status: string; outcome_reason: string | null }>(
      `select content, processing_status, outcome_reason from messages
       where conversation_id = $1 and role = 'user' order by created_at`,
      [conversationId],
    )
  ).map((r) => [r.content, r.processing_status, r.outcome_reason]);
const conversationRow = async (id: string) =>
  (
    await query<{ mode: string; handoff_reason: string | null }>(
      'select mode, handoff_reason from conversations where id = $1',
      [id],
    )
  )[0];
const audits = (id: string) =>
  query<{ actor_name: string; details: { from: string; to: string; reason: string } }>(
    `select actor_name, details from audit_log where target_id = $1 order by created_at`,
    [id],
  );

describe('the keyword trigger', () => {
  it('hands the conversation to a human: HANDOFF_MESSAGE once, no model call, a readable outcome, operators told', async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel, notified } = setup(model);
    const message = inbound({ body: 'Can I talk to a HUMAN?' });
    const ids = await acceptInbound(db, message);
    expect(await run(deps, ids)).toEqual({ kind: 'done' });

    expect(requests).toEqual([]);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([HANDOFF_MESSAGE]);
    expect(await outcomes(ids.conversationId)).toEqual([
      ['Can I talk to a HUMAN?', 'notice', 'handoff_requested'],
    ]);
    expect(await conversationRow(ids.conversationId)).toEqual({ mode: 'human', handoff_reason: 'keyword' });
    expect(
      (await audits(ids.conversationId)).map((a) => [a.actor_name, a.details.to, a.details.reason]),
    ).toEqual([['system', 'human', 'keyword']]);
    expect(notified).toEqual([
      {
        conversationId: ids.conversationId,
        profileName: 'Ada',
        userAddress: message.from,
        reason: 'keyword',
        actorName: 'system',
      },
    ]);

    // Later messages, even asking again, get nothing from the bot and no model call.
    for (const body of ['hello?', 'agent!!']) {
      const later = await acceptInbound(db, inbound({ from: message.from, body }));
      await run(deps, later);
    }
    expect(requests).toEqual([]);
    expect(channel.sent(message.from)).toHaveLength(1);
    expect(notified).toHaveLength(1);
    expect((await outcomes(ids.conversationId)).slice(1)).toEqual([
      ['hello?', 'skipped', 'mode_human'],
      ['agent!!', 'skipped', 'mode_human'],
    ]);
  });

  it('a batch with the request in the middle: nothing of it goes to the model, the message is sent once', async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel } = setup(model);
    const first = inbound({ body: 'hi' });
    const a = await acceptInbound(db, first);
    await acceptInbound(db, inbound({ from: first.from, body: 'I need a real   person' }));
    await acceptInbound(db, inbound({ from: first.from, body: 'order 123' }));
    await run(deps, a);
    expect(requests).toEqual([]);
    expect(channel.sent(first.from).map((m) => m.body)).toEqual([HANDOFF_MESSAGE]);
    expect(await outcomes(a.conversationId)).toEqual([
      ['hi', 'skipped', 'mode_human'],
      ['I need a real   person', 'notice', 'handoff_requested'],
      ['order 123', 'skipped', 'mode_human'],
    ]);
  });

  it('a job that died after the switch, before the announcement and closing the message: the retry finishes both, once', async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel, notified } = setup(model);
    const message = inbound({ body: 'human please' });
    const ids = await acceptInbound(db, message);
    // What the first run's switch statement left behind: human mode, the message still pending, nothing sent.
    await query(
      `update conversations set mode = 'human', handoff_at = now(), handoff_reason = 'keyword' where id = $1`,
      [ids.conversationId],
    );
    await processConversation(deps, ids, context(2));
    await processConversation(deps, ids, context(3));
    expect(requests).toEqual([]);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([HANDOFF_MESSAGE]);
    expect(notified).toHaveLength(1);
    expect(await outcomes(ids.conversationId)).toEqual([['human please', 'notice', 'handoff_requested']]);
  });

  it('in a human conversation with no recorded handoff start, the request is skipped, not left pending', async () => {
    const { model } = scriptedModel();
    const { deps, channel } = setup(model);
    const message = inbound({ body: 'agent' });
    const ids = await acceptInbound(db, message);
    await query(`update conversations set mode = 'human', handoff_at = null where id = $1`, [
      ids.conversationId,
    ]);
    expect(await run(deps, ids)).toEqual({ kind: 'done' });
    expect(channel.sent(message.from)).toEqual([]);
    expect(await outcomes(ids.conversationId)).toEqual([['agent', 'skipped', 'mode_human']]);
  });

  it('does nothing in a paused conversation: no switch, nothing sent', async () => {
    const { model } = scriptedModel();
    const { deps, channel, notified } = setup(model);
    const message = inbound({ body: 'human' });
    const ids = await acceptInbound(db, message);
    await query(`update conversations set mode = 'paused' where id = $1`, [ids.conversationId]);
    await run(deps, ids);
    expect(channel.sent(message.from)).toEqual([]);
    expect(notified).toEqual([]);
    expect((await conversationRow(ids.conversationId))?.mode).toBe('paused');
    expect(await outcomes(ids.conversationId)).toEqual([['human', 'skipped', 'mode_paused']]);
  });
});

describe("the model's handoff tool", () => {
  it('is offered on every call; a call hands off, its text is not sent, the call is recorded', async () => {
    const { model, requests } = scriptedModel(() => ({
      text: 'Let me find someone for you.',
      toolCalls: [{ id: 'call_1', name: 'handoff', arguments: { reason: 'wants a refund over the limit' } }],
    }));
    const { deps, channel, notified } = setup(model);
    const message = inbound({ body: 'refund me 5000 now' });
    const ids = await acceptInbound(db, message);
    await run(deps, ids);

    expect(requests).toHaveLength(1);
    expect(requests[0]?.tools).toEqual([HANDOFF_TOOL]);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([HANDOFF_MESSAGE]);
    expect(await outcomes(ids.conversationId)).toEqual([
      ['refund me 5000 now', 'notice', 'handoff_by_model'],
    ]);
    expect(await conversationRow(ids.conversationId)).toEqual({
      mode: 'human',
      handoff_reason: 'model: wants a refund over the limit',
    });
    expect((await audits(ids.conversationId)).map((a) => [a.actor_name, a.details.reason])).toEqual([
      ['model', 'model: wants a refund over the limit'],
    ]);
    const calls = await query<{ outcome: string; inbound_message_id: string; input_tokens: number }>(
      'select outcome, inbound_message_id, input_tokens from model_calls where conversation_id = $1',
      [ids.conversationId],
    );
    expect(calls).toEqual([{ outcome: 'used', inbound_message_id: ids.messageId, input_tokens: 10 }]);
    expect(notified.map((n) => n.reason)).toEqual(['model: wants a refund over the limit']);
    const replies = await query<{ author: string }>(
      `select author from messages where conversation_id = $1 and role = 'assistant'`,
      [ids.conversationId],
    );
    expect(replies).toEqual([{ author: 'system' }]);
  });

  it('a job that died between the switch and the announcement: the retry announces once, without asking the model', async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel, notified } = setup(model);
    const message = inbound({ body: 'my parcel is broken' });
    const ids = await acceptInbound(db, message);
    await query(
      `update conversations set mode = 'human', handoff_at = now(), handoff_reason = 'model: broken parcel'
       where id = $1`,
      [ids.conversationId],
    );
    await processConversation(deps, ids, context(2));
    const later = await acceptInbound(db, inbound({ from: message.from, body: 'hello?' }));
    await processConversation(deps, later, context());
    expect(requests).toEqual([]);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([HANDOFF_MESSAGE]);
    expect(notified.map((n) => n.reason)).toEqual(['model: broken parcel']);
    expect(await outcomes(ids.conversationId)).toEqual([
      ['my parcel is broken', 'skipped', 'mode_human'],
      ['hello?', 'skipped', 'mode_human'],
    ]);
  });

  it('is not offered to a model without tools', async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel } = setup({ ...model, supportsTools: false });
    const message = inbound({ body: 'hello' });
    await run(deps, await acceptInbound(db, message));
    expect(requests[0]?.tools).toBeUndefined();
    expect(channel.sent(message.from).map((m) => m.body)).toEqual(['re: hello']);
  });

  it('does not undo a pause an operator made while the model was thinking', async () => {
    let conversationId = '';
    const { model } = scriptedModel(() => ({
      text: '',
      toolCalls: [{ id: 'c', name: 'handoff', arguments: { reason: 'x' } }],
    }));
    const paused: ChatModel = {
      ...model,
      async complete(request, signal) {
        await query(`update conversations set mode = 'paused' where id = $1`, [conversationId]);
        return model.complete(request, signal);
      },
    };
    const { deps, channel, notified } = setup(paused);
    const message = inbound({ body: 'hello' });
    const ids = await acceptInbound(db, message);
    conversationId = ids.conversationId;
    await run(deps, ids);
    expect((await conversationRow(conversationId))?.mode).toBe('paused');
    expect(channel.sent(message.from)).toEqual([]);
    expect(notified).toEqual([]);
    expect(await outcomes(conversationId)).toEqual([['hello', 'skipped', 'mode_paused']]);
    const calls = await query<{ outcome: string }>(
      'select outcome from model_calls where conversation_id = $1',
      [conversationId],
    );
    expect(calls).toEqual([{ outcome: 'discarded' }]);
  });
});

describe('back to the bot', () => {
  it("the resumed bot's context holds the operator's words and what the user wrote to them; the handoff notice is not in it", async () => {
    const { model, requests } = scriptedModel();
    const { deps, channel } = setup(model);
    const message = inbound({ body: 'hi there' });
    const first = await acceptInbound(db, message);
    await run(deps, first);
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'give me a human' })));
    const operator = { ...CLI_ACTOR, kind: 'user' as const, id: 'op-1', name: 'olga' };
    await sendAsOperator(deps, {
      conversationId: first.conversationId,
      actor: operator,
      text: 'Hi, Olga here: your refund is approved.',
      requestKey: 'k1',
    });
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'great, thanks!' })));
    await switchMode(deps, {
      conversationId: first.conversationId,
      mode: 'bot',
      actor: operator,
      reason: 'operator',
    });
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'when will it arrive?' })));

    expect(requests).toHaveLength(2);
    const prompt = requests[1]?.messages.map((m) => [m.role, m.content]);
    expect(prompt).toEqual([
      ['system', 'be brief'],
      ['user', 'hi there'],
      ['assistant', 're: hi there'],
      ['user', 'give me a human'],
      ['assistant', 'Hi, Olga here: your refund is approved.'],
      ['user', 'great, thanks!'],
      ['user', 'when will it arrive?'],
    ]);
    expect(channel.sent(message.from).map((m) => m.body)).toEqual([
      're: hi there',
      HANDOFF_MESSAGE,
      'Hi, Olga here: your refund is approved.',
      're: when will it arrive?',
    ]);
  });

  it('an idle return after longer than the session timeout still gives the bot the human period, once', async () => {
    const { model, requests } = scriptedModel();
    const { deps } = setup(model);
    const message = inbound({ body: 'old question' });
    const first = await acceptInbound(db, message);
    await run(deps, first);
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'a human please' })));
    await sendAsOperator(deps, {
      conversationId: first.conversationId,
      actor: { ...CLI_ACTOR, kind: 'user', id: 'op-2', name: 'omar' },
      text: 'Omar here: I changed your address.',
      requestKey: 'k-idle',
    });
    // Everything so far happened hours ago; the idle timer then handed the conversation back.
    await query(
      `update messages set created_at = created_at - interval '3 hours' where conversation_id = $1`,
      [first.conversationId],
    );
    await query(
      `update conversations set mode = 'bot', handoff_at = handoff_at - interval '3 hours' where id = $1`,
      [first.conversationId],
    );
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'is it done?' })));
    // The human period bridges the silence; before it, the usual rule (the first exchange was minutes earlier).
    expect(requests.at(-1)?.messages.map((m) => m.content)).toEqual([
      'be brief',
      'old question',
      're: old question',
      'a human please',
      'Omar here: I changed your address.',
      'is it done?',
    ]);

    // Once the bot has answered after the handoff, the usual session rule applies again (on a cache miss).
    await deps.context.clear(first.conversationId);
    await query(
      `update messages set created_at = created_at - interval '3 hours' where conversation_id = $1`,
      [first.conversationId],
    );
    await run(deps, await acceptInbound(db, inbound({ from: message.from, body: 'next week?' })));
    expect(requests.at(-1)?.messages.map((m) => m.content)).toEqual(['be brief', 'next week?']);
  });

  it('a switch back to the bot forgets the cached context (no stale window after a handoff)', async () => {
    const { model } = scriptedModel();
    const { deps, context: cache } = setup(model);
    const ids = await acceptInbound(db, inbound({ body: 'human' }));
    await run(deps, ids);
    await cache.append(ids.conversationId, [{ id: 'stale', role: 'user', content: 'stale', at: Date.now() }]);
    await switchMode(deps, {
      conversationId: ids.conversationId,
      mode: 'bot',
      actor: CLI_ACTOR,
      reason: 'operator',
    });
    expect(await cache.get(ids.conversationId)).toBeNull();
  });
});
