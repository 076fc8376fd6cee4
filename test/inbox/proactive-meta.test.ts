/**
 * A proactive message from a Meta number: the number it is sent from picks the channel, the person's address is
 * Meta's (`+<digits>` or a business-scoped id), a template is a Meta template name with its language, and the
 * worker sends it through the Graph API (a fake speaking its wire protocol) from that number.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetaChannel, type MetaChannel } from '../../src/channels/meta/channel.js';
import { createNumberDirectory } from '../../src/channels/number-directory.js';
import type { Db } from '../../src/db/connect.js';
import { getConversation } from '../../src/db/conversations.js';
import { sentPart } from '../../src/db/deliveries.js';
import { AppError } from '../../src/domain/errors.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { deliverProactive, type ProactiveContent } from '../../src/inbox/send-proactive.js';
import { silentLogger } from '../../src/log.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';
import { fixedAi } from '../helpers/pipeline-deps.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const META = { phoneNumberId: '106540352242922', token: 'EAAG-proactive-token' };

let database: TestDatabase;
let db: Db;
let fake: FakeGraphApi;
let channel: MetaChannel;
let numbers: ReturnType<typeof createNumberDirectory>;

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeGraphApi()]);
  db = database.database.db;
  fake.addNumber(META);
  numbers = createNumberDirectory({
    db,
    twilio: null,
    meta: { phoneNumberId: META.phoneNumberId, accessToken: META.token, appSecret: 's', verifyToken: 'v' },
    decrypt: () => {
      throw new Error('no stored numbers here');
    },
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

function deps() {
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  return {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    locks: createMemoryLocks(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    limiter: createMemoryRateLimiter(),
    ai: fixedAi(() => Promise.reject(new Error('a proactive message asks no model'))),
    numbers,
    // Only Meta is configured here: no Twilio channel.
    channelFor: (name: string) => (name === 'meta' ? channel : undefined),
    log: silentLogger(),
    settings: pipelineSettings(),
  };
}

const person = () => `1650555${String(randomBytes(2).readUInt16BE(0) % 10_000).padStart(4, '0')}`;
const send = (to: string, content: ProactiveContent, from?: string) =>
  deliverProactive(deps(), {
    to,
    from,
    content,
    key: `proactive:test:${randomBytes(6).toString('hex')}`,
    author: 'operator:test',
  });

describe('proactive messages on Meta', () => {
  it('a template from the Meta number: a Meta conversation keyed by +digits, sent with en_US by default', async () => {
    const digits = person();
    const template: ProactiveContent = {
      type: 'template',
      templateId: 'order_update',
      variables: { '1': 'Ana' },
    };
    // No `from`: with no Twilio channel, the first Meta number is the default.
    const sent = await send(digits, template);
    expect(sent.to).toBe(`+${digits}`);
    const conversation = await getConversation(db, sent.conversationId);
    expect(conversation).toMatchObject({
      channel: 'meta',
      userAddress: `+${digits}`,
      businessAddress: META.phoneNumberId,
    });
    await processConversation(
      deps(),
      { conversationId: sent.conversationId, messageId: sent.messageId },
      { jobId: 'j', attempt: 1, maxAttempts: 3 },
    );
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.phoneNumberId).toBe(META.phoneNumberId);
    expect(fake.sent[0]?.body).toMatchObject({
      to: `+${digits}`,
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
      },
    });
  });

  it('takes a whatsapp:-prefixed number or a business-scoped id, and the language it is given', async () => {
    const viaPrefix = await send(
      `whatsapp:+${person()}`,
      {
        type: 'template',
        templateId: 'welcome',
        language: 'pt_BR',
        variables: {},
      },
      META.phoneNumberId,
    );
    expect(viaPrefix.to).toMatch(/^\+1650555\d{4}$/);
    const scoped = await send('US.13491208655302741918', {
      type: 'template',
      templateId: 'welcome',
      variables: {},
    });
    expect(scoped.to).toBe('US.13491208655302741918');
  });

  it("refuses a Twilio Content SID, a bad language, an address that is not Meta's, and a number not ours", async () => {
    const refusal = async (promise: Promise<unknown>) => {
      const error = await promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      return (error as AppError).code;
    };
    expect(
      await refusal(send(person(), { type: 'template', templateId: 'HX' + 'a'.repeat(32), variables: {} })),
    ).toBe('invalid_template');
    expect(
      await refusal(
        send(person(), { type: 'template', templateId: 'welcome', language: 'english', variables: {} }),
      ),
    ).toBe('invalid_template');
    expect(await refusal(send('not-a-number', { type: 'text', text: 'hi' }))).toBe('invalid_address');
    expect(await refusal(send(person(), { type: 'text', text: 'hi' }, '999999999999'))).toBe('invalid_from');
  });

  it('a free-form text to someone who never wrote is outside the window (no Meta window template here)', async () => {
    const error = await send(person(), { type: 'text', text: 'hello there' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'conflict', code: 'outside_window' });
    expect(fake.sent).toHaveLength(0);
  });
});
