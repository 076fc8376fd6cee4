import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { webhookLogs } from '../../src/db/schema.js';
import { appendWebhookLog, pruneWebhookLogs, type WebhookLogInput } from '../../src/db/webhook-logs.js';
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

describe('webhook logs', () => {
  it('stores an entry as given', async () => {
    const messageSid = sid();
    await appendWebhookLog(db, entry(messageSid));
    const rows = await db.select().from(webhookLogs).where(eq(webhookLogs.providerMessageId, messageSid));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ...entry(messageSid) });
    expect(rows[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('prunes entries older than the retention and keeps the recent ones', async () => {
    const [old1, old2, recent] = [sid(), sid(), sid()];
    for (const id of [old1, old2, recent]) await appendWebhookLog(db, entry(id));
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
