/**
 * The Meta channel in the worker's pipeline, on a real PostgreSQL, against the fake Graph API over HTTP: the part
 * id on every send, the read receipt with "typing…", the send-once rule after a crash (Meta has no "find my
 * message" query: the status webhook's wamid is waited for), the window template, and tokens per number from the
 * database-backed directory.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNumberDirectory } from '../../src/channels/number-directory.js';
import { createMetaChannel, type MetaChannel } from '../../src/channels/meta/channel.js';
import type { Db } from '../../src/db/connect.js';
import { sentPart } from '../../src/db/deliveries.js';
import { acceptInbound, claimDeliverySending, saveReply } from '../../src/db/messages.js';
import { rowsOf } from '../../src/db/rows.js';
import { AppError } from '../../src/domain/errors.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import type { PipelineSettings } from '../../src/pipeline/deps.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { recordStatus } from '../../src/pipeline/record-status.js';
import { sendOutbound } from '../../src/pipeline/send-outbound.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { ChatModel } from '../../src/ports.js';
import { createFieldCipher } from '../../src/security/field-encryption.js';
import { inbound } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';
import { fixedAi, numbersOf } from '../helpers/pipeline-deps.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const MAIN = { phoneNumberId: '106540352242922', token: 'EAAG-main-token' };
const SECOND = { phoneNumberId: '207650463353033', token: 'EAAG-second-token' };
const cipher = createFieldCipher(randomBytes(32));

let database: TestDatabase;
let db: Db;
let fake: FakeGraphApi;
let channel: MetaChannel;

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeGraphApi()]);
  db = database.database.db;
  fake.addNumber(MAIN);
  fake.addNumber(SECOND);
  // The second number is a `business_numbers` row with its token encrypted, as `chatbot number add` stores it.
  const credentials = cipher.encrypt(JSON.stringify({ accessToken: SECOND.token }));
  await db.execute(
    sql`insert into business_numbers (channel, address, name, credentials_encrypted)
        values ('meta', ${SECOND.phoneNumberId}, 'second', ${credentials})`,
  );
  const numbers = createNumberDirectory({
    db,
    twilio: null,
    meta: { phoneNumberId: MAIN.phoneNumberId, accessToken: MAIN.token, appSecret: 's', verifyToken: 'v' },
    decrypt: (stored) => cipher.decrypt(stored),
    refreshMs: 60_000,
    log: silentLogger(),
  });
  channel = createMetaChannel({
    graph: { baseUrl: fake.url, version: 'v24.0' },
    numbers,
    sentPart: (partId) => sentPart(db, partId),
  });
});
afterAll(async () => {
  await Promise.all([database.close(), fake.close()]);
});
beforeEach(() => fake.reset());

const settings: PipelineSettings = pipelineSettings({
  conversationLockTtlMs: 1000,
  handoffKeywords: ['human'],
  windowTemplates: {
    meta: { type: 'template', templateId: 'follow_up', language: 'en_US', variables: { '1': 'there' } },
  },
});

const model: ChatModel = {
  provider: 'scripted',
  model: 'scripted-1',
  complete: (request) =>
    Promise.resolve({
      text: `re: ${String(request.messages.at(-1)?.content)}`,
      model: 'scripted-1',
      usage: { inputTokens: 1, outputTokens: 1 },
    }),
};

function deps(overrides: Partial<PipelineSettings> = {}) {
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  return {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    locks: createMemoryLocks(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    limiter: createMemoryRateLimiter(),
    ai: fixedAi(() => Promise.resolve({ model, systemPrompt: 'be brief', temperature: 0, maxTokens: 50 })),
    numbers: numbersOf(db),
    channelFor: () => channel,
    log: silentLogger(),
    settings: { ...settings, ...overrides },
  };
}

const context = { jobId: 'j', attempt: 1, maxAttempts: 3 };
const userDigits = () => `1650555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

/** A user's message to `to` on Meta, accepted as the webhook would. */
async function userWrites(text: string, to = MAIN.phoneNumberId, from = userDigits()) {
  const wamid = `wamid.in-${randomBytes(6).toString('hex')}`;
  const accepted = await acceptInbound(
    db,
    inbound({ channel: 'meta', providerMessageId: wamid, from, to, body: text }),
  );
  return { ...accepted, wamid, from };
}

async function partsOf(conversationId: string) {
  return rowsOf<{
    id: string;
    status: string;
    provider_message_id: string | null;
    error_code: string | null;
  }>(
    await db.execute(
      sql`select d.id, d.status, d.provider_message_id, d.error_code from deliveries d
          join messages m on m.id = d.message_id
          where d.conversation_id = ${conversationId} order by m.created_at, d.part_index`,
    ),
  );
}

describe('answering on Meta', () => {
  it('marks the message read with "typing…" once, then sends the reply with its part id', async () => {
    const message = await userWrites('hello meta');
    const outcome = await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(outcome).toEqual({ kind: 'done' });
    expect(fake.reads).toEqual([
      { phoneNumberId: MAIN.phoneNumberId, messageId: message.wamid, typing: true },
    ]);
    const [part] = await partsOf(message.conversationId);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.body).toMatchObject({
      to: message.from,
      type: 'text',
      text: { body: 're: hello meta' },
      biz_opaque_callback_data: part?.id,
    });
    // The read receipt went first.
    expect(fake.requests.map((r) => (r.body?.status === 'read' ? 'read' : 'send'))).toEqual(['read', 'send']);
    expect(part).toMatchObject({ status: 'accepted', provider_message_id: fake.sent[0]?.wamid });
  });

  it('a reply in two parts (over 4096 characters) still marks the message read only once', async () => {
    const long = 'word '.repeat(1000).trim();
    const message = await userWrites(long);
    await processConversation(
      deps({ maxMessageLength: 10_000 }),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(fake.sent).toHaveLength(2);
    expect(fake.reads.map((r) => r.messageId)).toEqual([message.wamid]);
    for (const sent of fake.sent)
      expect((sent.body.text as { body: string }).body.length).toBeLessThanOrEqual(4096);
  });

  it('answers from the number written to, with that number’s token from the database', async () => {
    const message = await userWrites('to the second', SECOND.phoneNumberId);
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(fake.requests.map((r) => [r.path, r.authorization])).toEqual([
      [`/${SECOND.phoneNumberId}/messages`, `Bearer ${SECOND.token}`],
      [`/${SECOND.phoneNumberId}/messages`, `Bearer ${SECOND.token}`],
    ]);
    expect(fake.sent[0]?.phoneNumberId).toBe(SECOND.phoneNumberId);
  });

  it('a failed read receipt does not fail the job: the reply still goes', async () => {
    const message = await userWrites('read receipt fails');
    fake.failNext(1, { status: 500, code: 131000, message: 'Something went wrong' });
    const outcome = await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(outcome).toEqual({ kind: 'done' });
    expect(fake.reads).toHaveLength(0);
    expect(fake.sent.map((m) => (m.body.text as { body: string }).body)).toEqual(['re: read receipt fails']);
  });

  it('no read receipt for a message the bot does not answer (handed to a person)', async () => {
    const message = await userWrites('human please');
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(fake.reads).toHaveLength(0);
  });
});

describe('a crash between Meta’s answer and storing it', () => {
  /** A stored reply whose part was claimed and sent at the fake, the wamid never stored: the process died. */
  async function crashedAfterSend(startedSecondsAgo: number) {
    const message = await userWrites('crash');
    const saved = await saveReply(db, {
      conversationId: message.conversationId,
      answeredIds: [message.messageId],
      content: 'the answer',
      parts: ['the answer'],
      to: message.from,
      from: MAIN.phoneNumberId,
      model: null,
      provider: null,
      usage: null,
      latencyMs: null,
      errorKind: null,
    });
    if (!saved.parts[0]) throw new Error('reply not stored');
    const part = saved.parts[0];
    await claimDeliverySending(db, part.id);
    const result = await channel.send({
      to: message.from,
      from: MAIN.phoneNumberId,
      body: 'the answer',
      partId: part.id,
    });
    await db.execute(
      sql`update deliveries set sending_started_at = now() - make_interval(secs => ${startedSecondsAgo})
          where id = ${part.id}`,
    );
    fake.reset();
    return { message, partId: part.id, wamid: result.providerMessageId };
  }

  it('the retry waits for the status webhook instead of sending again, then adopts its wamid', async () => {
    const { message, partId, wamid } = await crashedAfterSend(5);
    const job = { conversationId: message.conversationId, messageId: message.messageId };
    const first = await processConversation(deps(), job, context);
    expect(first.kind).toBe('later');
    expect(fake.sent).toHaveLength(0);
    // Meta's `sent` webhook carries biz_opaque_callback_data = the part id: the web's status path adopts the wamid.
    expect(
      await recordStatus(deps(), { providerMessageId: wamid, status: 'sent', errorCode: null, partId }),
    ).toEqual({ known: true, adopted: true });
    const second = await processConversation(deps(), job, { ...context, attempt: 2 });
    expect(second).toEqual({ kind: 'done' });
    expect(fake.sent).toHaveLength(0);
    expect((await partsOf(message.conversationId))[0]).toMatchObject({
      status: 'sent',
      provider_message_id: wamid,
    });
  });

  it('a status adopted between the retry reading the part and asking the channel is found by part id', async () => {
    const { message, partId, wamid } = await crashedAfterSend(5);
    // As if the webhook's adoption landed after the sender read the part as 'sending': the id is there to find.
    await db.execute(sql`update deliveries set provider_message_id = ${wamid} where id = ${partId}`);
    expect(
      await channel.findSent({ to: message.from, body: 'the answer', sentAfter: new Date(), partId }),
    ).toEqual({
      providerMessageId: wamid,
      status: 'accepted',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('after the grace period with no status at all, the part is sent again (a lost reply is worse)', async () => {
    const { message } = await crashedAfterSend(4 * 60);
    const job = { conversationId: message.conversationId, messageId: message.messageId };
    expect(await processConversation(deps(), job, context)).toEqual({ kind: 'done' });
    expect(fake.sent).toHaveLength(1);
  });
});

describe('the 24-hour window on Meta', () => {
  async function closedWindow() {
    const message = await userWrites('old');
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    await db.execute(
      sql`update conversations set last_inbound_at = now() - interval '25 hours' where id = ${message.conversationId}`,
    );
    fake.reset();
    return message;
  }

  it('outside the window an operator text goes as META_WINDOW_TEMPLATE; without one it is refused', async () => {
    const message = await closedWindow();
    const sent = await sendOutbound(deps(), {
      conversationId: message.conversationId,
      key: `operator:${randomBytes(4).toString('hex')}`,
      author: 'operator:test',
      content: { type: 'text', text: 'are you there?' },
    });
    expect(sent.sentAsTemplate).toBe(true);
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: sent.messageId },
      context,
    );
    expect(fake.sent.map((m) => m.body.template)).toEqual([
      {
        name: 'follow_up',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'there' }] }],
      },
    ]);
    const refused: unknown = await sendOutbound(deps({ windowTemplates: {} }), {
      conversationId: message.conversationId,
      key: `operator:${randomBytes(4).toString('hex')}`,
      author: 'operator:test',
      content: { type: 'text', text: 'hello?' },
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ kind: 'conflict', code: 'outside_window' });
    expect((refused as AppError).message).toContain('META_WINDOW_TEMPLATE');
  });

  it('a send Meta refuses with 131047 is failed with the code and followed by the template once', async () => {
    const message = await userWrites('inside the window');
    fake.failNext(2, { status: 400, code: 131047, message: 'Re-engagement message' });
    // The read receipt takes the first failure (logged), the reply the second.
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    const parts = await partsOf(message.conversationId);
    expect(parts[0]).toMatchObject({ status: 'failed', error_code: '131047' });
    // The fallback template was stored and queued for the worker: its next run sends it.
    await processConversation(
      deps(),
      { conversationId: message.conversationId, messageId: message.messageId },
      context,
    );
    expect(fake.sent.map((m) => m.body.type)).toEqual(['template']);
    expect((await partsOf(message.conversationId)).map((p) => p.status)).toEqual(['failed', 'accepted']);
  });
});
