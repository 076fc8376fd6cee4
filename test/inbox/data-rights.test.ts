/**
 * The data-rights use cases on a real PostgreSQL with the in-process adapters: an erasure searches each log once
 * (the rows found are counted and rewritten from those ids), forgets the person's rate-notice claim, and an export
 * carries each message's metadata (the window note that keeps an operator's original text).
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { acceptInbound, saveReply } from '../../src/db/messages.js';
import { rowsOf } from '../../src/db/rows.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { eraseUserData, exportUserData, type DataRightsDeps } from '../../src/inbox/data-rights.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { rateNoticeKey } from '../../src/pipeline/policies/rate-limit.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalMediaStore } from '../../src/media/local-store.js';
import { mediaKey } from '../../src/media/store.js';
import { pseudonymizer } from '../../src/security/pseudonym.js';
import { inbound, plainReply } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
});
afterAll(() => database.close());

function depsWith(overrides: Partial<DataRightsDeps> = {}): DataRightsDeps {
  return {
    db,
    log: silentLogger(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    limiter: createMemoryRateLimiter(),
    locks: createMemoryLocks(),
    pseudonymize: pseudonymizer('test key'),
    webhookLogRetentionDays: 30,
    ...overrides,
  };
}

/** A person who wrote once, with the webhook row of that message and an audit row about their conversation. */
async function person() {
  const message = inbound();
  const ids = await acceptInbound(db, message);
  await db.execute(sql`insert into webhook_logs
      (channel, kind, method, path, body, response_status, processing_time_ms, provider_message_id)
    values ('twilio', 'inbound', 'POST', '/webhook', ${JSON.stringify({ From: message.from, Body: 'hi' })}::jsonb,
      200, 1, ${message.providerMessageId})`);
  await db.execute(sql`insert into audit_log (actor_kind, actor_name, action, target_type, target_id, details)
    values ('cli', 'cli', 'conversation.mode', 'conversation', ${ids.conversationId}, '{}'::jsonb)`);
  return { ...ids, address: message.from, channel: message.channel };
}

/** `db` whose statements are counted by the table their text reads. */
function counting() {
  const dialect = new PgDialect();
  const reads = { webhook_logs: 0, audit_log: 0 };
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'execute') return Reflect.get(target, property, receiver) as unknown;
      return (query: SQL) => {
        const text = dialect.sqlToQuery(query).sql;
        if (/from webhook_logs/.test(text)) reads.webhook_logs++;
        if (/from audit_log/.test(text)) reads.audit_log++;
        return target.execute(query);
      };
    },
  });
  return { db: proxy, reads };
}

describe('erasing a person', () => {
  it('searches each log once, and rewrites what it found', async () => {
    const { address } = await person();
    const preview = counting();
    const counted = await eraseUserData(depsWith({ db: preview.db }), {
      actor: CLI_ACTOR,
      address,
      confirm: false,
    });
    expect(counted.counts).toMatchObject({ webhookLogs: 1, auditEntries: 1, messages: 1 });
    expect(preview.reads).toEqual({ webhook_logs: 1, audit_log: 1 });

    const erase = counting();
    const report = await eraseUserData(depsWith({ db: erase.db }), {
      actor: CLI_ACTOR,
      address,
      confirm: true,
    });
    expect(report.counts).toMatchObject({ webhookLogs: 1, auditEntries: 1, messages: 1 });
    expect(erase.reads).toEqual({ webhook_logs: 1, audit_log: 1 });
    const left = rowsOf<{ n: number }>(
      await db.execute(
        sql`select count(*)::int as n from webhook_logs where body::text like ${`%${address}%`}`,
      ),
    );
    expect(left[0]?.n).toBe(0);
  });

  it('deletes the files of their media from the media store, and nobody else’s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'erase-media-'));
    try {
      const media = createLocalMediaStore(dir);
      const content = {
        type: 'media' as const,
        items: [
          { kind: 'voice' as const, contentType: 'audio/ogg', reference: 'https://api.twilio.com/x/ME1' },
        ],
      };
      const theirs = inbound({ content, body: '[Voice message (audio/ogg)]' });
      const ids = await acceptInbound(db, theirs);
      const someoneElse = await acceptInbound(db, inbound({ content, body: '[Voice message (audio/ogg)]' }));
      await media.put(mediaKey(ids.messageId, 0), Buffer.from('their voice'), 'audio/ogg');
      await media.put(mediaKey(someoneElse.messageId, 0), Buffer.from('another voice'), 'audio/ogg');

      const report = await eraseUserData(depsWith({ media }), {
        actor: CLI_ACTOR,
        address: theirs.from,
        confirm: true,
      });
      expect(report.mediaFiles).toBe(1);
      expect(await media.get(mediaKey(ids.messageId, 0))).toBeNull();
      expect((await media.get(mediaKey(someoneElse.messageId, 0)))?.toString()).toBe('another voice');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('forgets their rate-limit notice claim (once:rate-notice:<channel>:<address>)', async () => {
    const { address, channel } = await person();
    const locks = createMemoryLocks();
    expect(await locks.claimOnce(rateNoticeKey(channel, address), 60_000)).toBe(true);
    const report = await eraseUserData(depsWith({ locks }), { actor: CLI_ACTOR, address, confirm: true });
    expect(report.hotStateCleared).toBe(true);
    // Writing again after the erasure, over the limit at once, they would be told again: nothing of theirs is left.
    expect(await locks.claimOnce(rateNoticeKey(channel, address), 60_000)).toBe(true);
  });
});

describe('exporting a person', () => {
  it("carries each message's metadata: the window note with the operator's original text", async () => {
    const { address, conversationId } = await person();
    const note = { reason: 'outside_window', replaced: 'text', text: 'Your refund is on its way' };
    await saveReply(db, {
      ...plainReply(conversationId, [], ['[template HX…]'], address),
      key: `operator:test:${crypto.randomUUID()}`,
      author: 'operator:test',
      metadata: { window: note },
    });
    const exported = await exportUserData(depsWith(), { actor: CLI_ACTOR, address });
    const messages = exported.conversations.flatMap((c) => c.messages);
    expect(messages.find((m) => m.direction === 'outbound')?.metadata).toEqual({ window: note });
    expect(exported.webhookLogs.count).toBe(1);
  });
});
