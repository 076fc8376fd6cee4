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

/** A database handle whose driver is `query` (the writer runs statements through `$client.query(text, values)`). */
function driver(query: (text: string, values: unknown[]) => Promise<{ rows: unknown[] }>): Db {
  return { $client: { query } } as unknown as Db;
}

/** The real database, by text and values, for a driver that fails first and then answers. */
function realQuery(text: string, values: unknown[]): Promise<{ rows: unknown[] }> {
  return testDb.database.withConnection(async (connection) => {
    const client = (
      connection as unknown as { $client: { query(t: string, v: unknown[]): Promise<{ rows: unknown[] }> } }
    ).$client;
    return client.query(text, values);
  });
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

  it('keeps the rows when PostgreSQL says "try later" (57P01 shutdown), and writes them once it answers', async () => {
    const ids = [sid(), sid(), sid()];
    let failures = 2;
    const { lines, log } = warnings();
    const writer = webhookLogWriter(
      driver(async (text, values) => {
        if (failures-- > 0)
          throw Object.assign(new Error('terminating connection due to administrator command'), {
            code: '57P01',
          });
        return realQuery(text, values);
      }),
      { flushMs: 10_000, log },
    );
    for (const id of ids) writer.write(entry(id));
    await writer.flush();
    await writer.flush();
    for (const id of ids) expect(await logged(id)).toHaveLength(0);
    await writer.close();
    for (const id of ids) expect(await logged(id)).toHaveLength(1);
    expect(lines.map((l) => l.message)).toEqual([
      'could not write webhook log rows; kept for the next attempt',
      'could not write webhook log rows; kept for the next attempt',
    ]);
  });

  it('has at most one batch in flight and drops the oldest rows while a slow database fails', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    let calls = 0;
    const { lines, log } = warnings();
    const writer = webhookLogWriter(
      driver(async () => {
        calls += 1;
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight -= 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }),
      { flushMs: 1, maxBatch: 10, maxBuffered: 20, log },
    );
    for (let i = 0; i < 200; i++) {
      writer.write(entry(sid()));
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writer.flush();
    expect(mostInFlight).toBe(1);
    expect(calls).toBeLessThan(20);
    await writer.close();
    // Nothing was written, and every row is accounted for: dropped past the bound, or given up at shutdown.
    const counted = (message: string, field: string) =>
      lines.filter((l) => l.message === message).reduce((sum, l) => sum + Number(l.fields[field]), 0);
    const dropped = counted('webhook log buffer full; oldest rows dropped', 'dropped');
    const lost = counted('webhook log rows not written before shutdown; dropped', 'rows');
    expect(lost).toBeLessThanOrEqual(20);
    expect(dropped + lost).toBe(200);
  });

  it('close() gives up after its deadline when the database hangs, and says how many rows it lost', async () => {
    const { lines, log } = warnings();
    const writer = webhookLogWriter(
      driver(() => new Promise(() => undefined)),
      { flushMs: 10_000, log },
    );
    writer.write(entry(sid()));
    writer.write(entry(sid()));
    const started = Date.now();
    await writer.close();
    expect(Date.now() - started).toBeLessThan(7000);
    expect(lines.at(-1)).toMatchObject({
      message: 'webhook log rows not written before shutdown; dropped',
      fields: { rows: 2 },
    });
  }, 10_000);

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
