/**
 * The window template after a provider's "outside the window" failure, on a real PostgreSQL, in the orders the
 * web and the worker can meet it: a 63016 callback that arrives before the send's answer (so before the part has
 * its provider id), a send refused at once with 63016, and a template's own 63016 (never followed); a user who
 * opted out meanwhile (noted, not reported), a fallback lost to a database blip (followed by the sweep, once), and
 * the sweep's fairness (a failure that keeps failing backs off and does not starve newer ones).
 */
import { type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound } from '../../src/db/messages.js';
import { recordOptOut } from '../../src/db/opt-outs.js';
import { AppError } from '../../src/domain/errors.js';
import type { TemplateContent } from '../../src/domain/window.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { silentLogger } from '../../src/log.js';
import { recordStatus } from '../../src/pipeline/record-status.js';
import { sendOutbound } from '../../src/pipeline/send-outbound.js';
import { sendUnsentParts } from '../../src/pipeline/send-parts.js';
import { followMissedWindowFailures } from '../../src/pipeline/window-fallback.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { Channel, OutboundMessage, SendResult } from '../../src/ports.js';
import { inbound, rows } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
});
afterAll(() => database.close());

const TEMPLATE: TemplateContent = {
  type: 'template',
  templateId: `HX${'f'.repeat(32)}`,
  variables: { '1': 'there' },
};

const settings = pipelineSettings({ windowTemplates: { twilio: TEMPLATE } });

/**
 * A Twilio-like channel at the wire's edge: `answer` decides what each send does (the provider's answer, or a
 * refusal), and may act before answering, as a status callback that races the API's answer does.
 */
function wireChannel(answer: (message: OutboundMessage, sid: string) => Promise<SendResult>) {
  const sent: OutboundMessage[] = [];
  let n = 0;
  const channel: Channel = {
    name: 'twilio',
    senders: ['whatsapp:+14155238886'],
    maxBodyLength: 1600,
    capabilities: { media: true, templates: true, reactions: false },
    send: (message) => {
      sent.push(message);
      n += 1;
      return answer(message, `SM${String(n).padStart(32, '0')}${Math.random().toString(16).slice(2, 8)}`);
    },
    findSent: () => Promise.resolve(null),
  };
  return { channel, sent };
}

function depsWith(channel: Channel) {
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const reported: unknown[] = [];
  return {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    channelFor: () => channel,
    log: silentLogger(),
    settings,
    reported,
    report: (error: unknown) => void reported.push(error),
  };
}

/** The message's outbound part accepted by the provider, then failed by a 63016 status callback. */
async function failedByCallback(deps: ReturnType<typeof depsWith>, text: string) {
  const sent = await operatorText(deps, text);
  await sendUnsentParts(deps, sent.conversationId, deps.channelFor(), deps.log);
  const [part] = rows<{ provider_message_id: string }>(
    await db.execute(`select provider_message_id from deliveries where message_id = '${sent.messageId}'`),
  );
  return { ...sent, providerMessageId: part?.provider_message_id ?? '' };
}

async function operatorText(deps: ReturnType<typeof depsWith>, text: string) {
  const { conversationId } = await acceptInbound(db, inbound());
  const sent = await sendOutbound(deps, {
    conversationId,
    key: `operator:test:${crypto.randomUUID()}`,
    author: 'operator:test',
    content: { type: 'text', text },
  });
  return { conversationId, messageId: sent.messageId };
}

const fallbacksOf = async (conversationId: string) =>
  rows<{ outbound_key: string; content_type: string; metadata: Record<string, unknown> }>(
    await db.execute(
      `select outbound_key, content_type, metadata from messages
       where conversation_id = '${conversationId}' and outbound_key like 'window-fallback:%'`,
    ),
  );

describe('the window template after a 63016', () => {
  it('follows a 63016 callback that arrived before the send’s answer stored the provider id', async () => {
    const { channel } = wireChannel(async (message, sid) => {
      // Twilio's callback beats its own API answer: nothing has this SID yet, so the web cannot match it.
      if (message.content?.type !== 'template') {
        const early = await recordStatus(deps, {
          providerMessageId: sid,
          status: 'undelivered',
          errorCode: '63016',
        });
        expect(early.known).toBe(false);
      }
      return { providerMessageId: sid, status: 'queued' };
    });
    const deps = depsWith(channel);
    const { conversationId, messageId } = await operatorText(deps, 'Your order shipped.');

    await sendUnsentParts(deps, conversationId, channel, deps.log);

    const [part] = rows<{ status: string; error_code: string }>(
      await db.execute(`select status, error_code from deliveries where message_id = '${messageId}'`),
    );
    expect(part).toEqual({ status: 'undelivered', error_code: '63016' });
    const fallbacks = await fallbacksOf(conversationId);
    expect(fallbacks).toEqual([
      {
        outbound_key: `window-fallback:${messageId}`,
        content_type: 'template',
        metadata: { window: { reason: 'window_failure', failedMessageId: messageId, errorCode: '63016' } },
      },
    ]);
    // It is sent by the conversation's next run, as any outbound message: the template, once.
    await sendUnsentParts(deps, conversationId, channel, deps.log);
    expect((await fallbacksOf(conversationId)).length).toBe(1);
  });

  it('follows a send refused at once with 63016, and never a template’s own 63016', async () => {
    const { channel, sent } = wireChannel((message, sid) => {
      if (message.content?.type === 'template') {
        // The template refused too: recorded, and not followed by another.
        return Promise.reject(
          new AppError('channel_rejected', 'outside the window', { code: '63016', notSent: true }),
        );
      }
      if (message.body === 'refused now')
        return Promise.reject(
          new AppError('channel_rejected', 'outside the window', { code: '63016', notSent: true }),
        );
      return Promise.resolve({ providerMessageId: sid, status: 'queued' });
    });
    const deps = depsWith(channel);
    const { conversationId, messageId } = await operatorText(deps, 'refused now');

    await sendUnsentParts(deps, conversationId, channel, deps.log);
    expect(await fallbacksOf(conversationId)).toHaveLength(1);
    await sendUnsentParts(deps, conversationId, channel, deps.log);

    expect(sent.map((m) => m.content?.type ?? 'text')).toEqual(['text', 'template']);
    const parts = rows<{ status: string; error_code: string; message_id: string }>(
      await db.execute(
        `select status, error_code, message_id from deliveries where conversation_id = '${conversationId}'
         and message_id <> (select id from messages where conversation_id = '${conversationId}' and role = 'user')`,
      ),
    );
    expect(parts.map((p) => [p.message_id === messageId, p.status, p.error_code]).sort()).toEqual([
      [false, 'failed', '63016'],
      [true, 'failed', '63016'],
    ]);
    expect(await fallbacksOf(conversationId)).toHaveLength(1);
  });

  it('a 21610 callback that beat the send records the opt-out and withholds the rest of the message', async () => {
    const { channel, sent } = wireChannel(async (_message, sid) => {
      await recordStatus(deps, { providerMessageId: sid, status: 'failed', errorCode: '21610' });
      return { providerMessageId: sid, status: 'queued' };
    });
    const deps = depsWith(channel);
    const long = `${'a'.repeat(1500)}. ${'b'.repeat(1500)}.`;
    const { conversationId } = await operatorText(deps, long);
    await sendUnsentParts(deps, conversationId, channel, deps.log);
    expect(sent).toHaveLength(1);
    const optOuts = rows<{ source: string }>(
      await db.execute(
        `select o.source from opt_outs o join conversations c on c.user_address = o.address
         where c.id = '${conversationId}'`,
      ),
    );
    expect(optOuts).toEqual([{ source: 'provider:21610' }]);
  });

  it('a user who opted out meanwhile gets no template: noted on the message, logged, not reported', async () => {
    const { channel, sent } = wireChannel((_message, sid) =>
      Promise.resolve({ providerMessageId: sid, status: 'queued' }),
    );
    const deps = depsWith(channel);
    const failed = await failedByCallback(deps, 'Your parcel is here.');
    await recordOptOut(db, failed.conversationId, { source: 'keyword', keyword: 'STOP' });
    await recordStatus(deps, {
      providerMessageId: failed.providerMessageId,
      status: 'undelivered',
      errorCode: '63016',
    });
    expect(deps.reported).toEqual([]);
    expect(await fallbacksOf(failed.conversationId)).toEqual([]);
    const [note] = rows<{ metadata: Record<string, unknown> }>(
      await db.execute(`select metadata from messages where id = '${failed.messageId}'`),
    );
    expect(note?.metadata).toMatchObject({ windowFallback: 'opted_out' });
    // Noted: the sweep does not try it again.
    expect(await followMissedWindowFailures(deps)).toBe(0);
    expect(sent).toHaveLength(1);
  });

  it('a fallback lost to a database blip is followed by the sweep, once', async () => {
    const { channel } = wireChannel((_message, sid) =>
      Promise.resolve({ providerMessageId: sid, status: 'queued' }),
    );
    const deps = depsWith(channel);
    const failed = await failedByCallback(deps, 'Your table is booked.');
    // The database fails the fallback's lookup (a failover, a dropped connection), after the status was stored.
    const dialect = new PgDialect();
    const blip = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'execute') return Reflect.get(target, property, receiver) as unknown;
        return (query: SQL) =>
          dialect.sqlToQuery(query).sql.includes("m.role <> 'user'")
            ? Promise.reject(new Error('Connection terminated unexpectedly'))
            : target.execute(query);
      },
    });
    await recordStatus(
      { ...deps, db: blip },
      { providerMessageId: failed.providerMessageId, status: 'undelivered', errorCode: '63016' },
    );
    expect(deps.reported).toHaveLength(1);
    expect(await fallbacksOf(failed.conversationId)).toEqual([]);

    expect(await followMissedWindowFailures(deps)).toBeGreaterThanOrEqual(1);
    expect(await fallbacksOf(failed.conversationId)).toEqual([
      {
        outbound_key: `window-fallback:${failed.messageId}`,
        content_type: 'template',
        metadata: {
          window: { reason: 'window_failure', failedMessageId: failed.messageId, errorCode: '63016' },
        },
      },
    ]);
    // Idempotent: the next sweep finds nothing left to follow for it.
    await followMissedWindowFailures(deps);
    expect(await fallbacksOf(failed.conversationId)).toHaveLength(1);
  });

  it('the sweep is fair: a failure that keeps failing backs off, and a newer one is followed before it', async () => {
    const { channel } = wireChannel((_message, sid) =>
      Promise.resolve({ providerMessageId: sid, status: 'queued' }),
    );
    const deps = depsWith(channel);
    // Two failures whose fallback was lost (no template configured when their callbacks came): A is older.
    const lost = async (text: string) => {
      const failed = await failedByCallback(deps, text);
      await recordStatus(
        { ...deps, settings: pipelineSettings() },
        { providerMessageId: failed.providerMessageId, status: 'undelivered', errorCode: '63016' },
      );
      return failed;
    };
    const a = await lost('Stubborn one.');
    const b = await lost('Fresh one.');
    await db.execute(
      `update deliveries set updated_at = now() - interval '1 hour' where message_id = '${a.messageId}'`,
    );
    // Every try at A's fallback fails (its lookup meets a fault); B's would work.
    const dialect = new PgDialect();
    const failingA = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'execute') return Reflect.get(target, property, receiver) as unknown;
        return (query: SQL) => {
          const { sql: text, params } = dialect.sqlToQuery(query);
          return text.includes("m.role <> 'user'") && params.includes(a.messageId)
            ? Promise.reject(new Error('Connection terminated unexpectedly'))
            : target.execute(query);
        };
      },
    });
    const now = new Date();
    // One failure per round, so the order decides who waits: A first (older, neither tried yet), and it fails.
    expect(await followMissedWindowFailures({ ...deps, db: failingA }, now, 1)).toBe(0);
    const [triedA] = rows<{ metadata: Record<string, unknown> }>(
      await db.execute(`select metadata from messages where id = '${a.messageId}'`),
    );
    expect(triedA?.metadata).toMatchObject({
      windowFallbackTries: 1,
      windowFallbackTriedAt: now.toISOString(),
    });
    // Next round, still failing: A backs off (a minute after its first try), so B gets its template.
    expect(
      await followMissedWindowFailures({ ...deps, db: failingA }, new Date(now.getTime() + 1000), 1),
    ).toBe(1);
    expect(await fallbacksOf(b.conversationId)).toHaveLength(1);
    expect(await fallbacksOf(a.conversationId)).toEqual([]);
    // Its backoff over, A is tried again: still failing, it now waits two minutes; then it works.
    await followMissedWindowFailures({ ...deps, db: failingA }, new Date(now.getTime() + 61_000), 1);
    expect(await followMissedWindowFailures(deps, new Date(now.getTime() + 62_000), 1)).toBe(0);
    expect(await followMissedWindowFailures(deps, new Date(now.getTime() + 182_000), 1)).toBe(1);
    expect(await fallbacksOf(a.conversationId)).toHaveLength(1);
  });

  it('the sweep ignores failures older than a day', async () => {
    const { channel } = wireChannel((_message, sid) =>
      Promise.resolve({ providerMessageId: sid, status: 'queued' }),
    );
    const deps = depsWith(channel);
    const failed = await failedByCallback(deps, 'Old news.');
    await recordStatus(
      { ...deps, settings: pipelineSettings() },
      { providerMessageId: failed.providerMessageId, status: 'undelivered', errorCode: '63016' },
    );
    await db.execute(
      `update deliveries set updated_at = now() - interval '25 hours' where message_id = '${failed.messageId}'`,
    );
    await followMissedWindowFailures(deps);
    expect(await fallbacksOf(failed.conversationId)).toEqual([]);
  });
});
