import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDb, type Db } from '../../src/db/connect.js';
import { webhookLogs } from '../../src/db/schema.js';
import { webhookLogWriter } from '../../src/db/webhook-log-writer.js';
import { pruneWebhookLogs, type WebhookLogInput } from '../../src/db/webhook-logs.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sid } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

function entry(providerMessageId: string): WebhookLogInput {
  return {
    channel: 'twilio',
    kind: 'status',
    method: 'POST',
    path: '/api/whatsapp/status/',
    headers: { 'user-agent': 'TwilioProxy/1.1' },
    body: { MessageSid: providerMessageId, MessageStatus: 'delivered' },
    responseStatus: 204,
    processingTimeMs: 0.8,
    error: 'nothing wrong, just a note',
    providerMessageId,
  };
}

async function logged(providerMessageId: string) {
  return db.select().from(webhookLogs).where(eq(webhookLogs.providerMessageId, providerMessageId));
}

function warnings() {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    log: {
      warn: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }),
    } as never,
  };
}

describe('webhook logs', () => {
  it('stores an entry as given, stamped with when it was written, not when the batch went out', async () => {
    const messageSid = sid();
    const writer = webhookLogWriter(db, { flushMs: 10_000 });
    const before = Date.now();
    writer.write(entry(messageSid));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writer.close();
    const rows = await logged(messageSid);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ...entry(messageSid) });
    expect(rows[0]?.createdAt).toBeInstanceOf(Date);
    // Written at `before`, flushed ~300 ms later: the row keeps the first instant.
    expect(Math.abs(rows[0]!.createdAt.getTime() - before)).toBeLessThan(200);
  });

  it('holds rows until the flush interval, then stores them together', async () => {
    const ids = [sid(), sid(), sid()];
    const writer = webhookLogWriter(db, { flushMs: 150 });
    for (const id of ids) writer.write(entry(id));
    for (const id of ids) expect(await logged(id)).toHaveLength(0);
    await vi.waitFor(async () => {
      for (const id of ids) expect(await logged(id)).toHaveLength(1);
    });
    await writer.close();
  });

  it('writes a full batch at once without waiting for the interval', async () => {
    const ids = [sid(), sid()];
    const writer = webhookLogWriter(db, { flushMs: 60_000, maxBatch: 2 });
    for (const id of ids) writer.write(entry(id));
    await vi.waitFor(async () => {
      for (const id of ids) expect(await logged(id)).toHaveLength(1);
    });
    await writer.close();
  });

  it('a row PostgreSQL refuses costs only itself, with a warning', async () => {
    const [good1, bad, good2] = [sid(), sid(), sid()];
    const { lines, log } = warnings();
    const writer = webhookLogWriter(db, { flushMs: 10_000, log });
    writer.write(entry(good1));
    // NaN travels as JSON null into a NOT NULL column: refused (SQLSTATE 23502).
    writer.write({ ...entry(bad), processingTimeMs: Number.NaN });
    writer.write(entry(good2));
    await writer.close();
    expect(await logged(good1)).toHaveLength(1);
    expect(await logged(good2)).toHaveLength(1);
    expect(await logged(bad)).toHaveLength(0);
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'webhook log rows refused; dropped',
        fields: expect.objectContaining({ rows: 1 }) as unknown,
      }),
    ]);
  });

  it('keeps the rows while the database is unreachable and writes them when it is back', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(testDb.url).port || 5432) });
    const viaProxy = new URL(testDb.url);
    viaProxy.port = String(proxy.port);
    const database = await connectDb({ kind: 'postgres', url: viaProxy.toString(), poolSize: 2 });
    const { lines, log } = warnings();
    const writer = webhookLogWriter(database.db, { flushMs: 10_000, log });
    try {
      await proxy.cut();
      const ids = [sid(), sid()];
      for (const id of ids) writer.write(entry(id));
      await writer.flush();
      expect(lines.at(-1)).toMatchObject({
        message: 'could not write webhook log rows; kept for the next attempt',
        fields: { rows: 2 },
      });
      await proxy.restore();
      await writer.flush();
      for (const id of ids) expect(await logged(id)).toHaveLength(1);
    } finally {
      await writer.close();
      await database.close();
      await proxy.close();
    }
  });

  it('drops the oldest rows past its bound, and says how many', async () => {
    const { lines, log } = warnings();
    const writer = webhookLogWriter(db, { flushMs: 60_000, maxBuffered: 2, log });
    const ids = [sid(), sid(), sid()];
    for (const id of ids) writer.write(entry(id));
    await writer.close();
    expect(await logged(ids[0]!)).toHaveLength(0);
    expect(await logged(ids[1]!)).toHaveLength(1);
    expect(await logged(ids[2]!)).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'webhook log buffer full; oldest rows dropped',
        fields: expect.objectContaining({ dropped: 1 }) as unknown,
      }),
    ]);
  });

  it('stores what PostgreSQL cannot hold (U+0000, a lone surrogate) without it', async () => {
    const messageSid = sid();
    const writer = webhookLogWriter(db, { flushMs: 0 });
    writer.write({
      ...entry(messageSid),
      body: { MessageSid: messageSid, 'Extra\u0000': '\u0000', Lone: '\udc00' },
    });
    await writer.close();
    const [row] = await logged(messageSid);
    expect(row?.body).toEqual({ MessageSid: messageSid, Extra: '', Lone: '\ufffd' });
  });

  it('prunes entries older than the retention and keeps the recent ones', async () => {
    const [old1, old2, recent] = [sid(), sid(), sid()];
    const writer = webhookLogWriter(db);
    for (const id of [old1, old2, recent]) writer.write(entry(id));
    await writer.close();
    const fortyDaysAgo = new Date(Date.now() - 40 * 86_400_000);
    for (const id of [old1, old2]) {
      await db
        .update(webhookLogs)
        .set({ createdAt: fortyDaysAgo })
        .where(eq(webhookLogs.providerMessageId, id));
    }
    expect(await pruneWebhookLogs(db, 30)).toBe(2);
    const left = await db.select({ id: webhookLogs.providerMessageId }).from(webhookLogs);
    expect(left.map((r) => r.id)).toContain(recent);
    expect(left.map((r) => r.id)).not.toContain(old1);
    expect(await pruneWebhookLogs(db, 30)).toBe(0);
  });
});
