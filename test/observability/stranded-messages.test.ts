/**
 * The stranded-message count: the reader against a real database (what it counts, how long it reuses a reading),
 * and /health/ and /metrics of a web process running without worker or scheduler, where accepted messages stay
 * pending and the count is what makes that visible.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/db/messages.js';
import { messages } from '../../src/db/schema.js';
import { strandedMessagesReader } from '../../src/observability/stranded-messages.js';
import { inbound } from '../db/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inboundParams } from '../helpers/twilio.js';
import { parseExposition, valueOf } from './scrape.js';

describe('strandedMessagesReader', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    await testDb.close();
  });

  it('counts pending messages older than the threshold only, and reuses a reading for cacheMs', async () => {
    const db = testDb.database.db;
    const age = async (id: string) =>
      db
        .update(messages)
        .set({ createdAt: sql`now() - interval '2 minutes'` })
        .where(eq(messages.id, id));
    const old = await acceptInbound(db, inbound());
    await age(old.messageId);
    const answered = await acceptInbound(db, inbound(), 'answered');
    await age(answered.messageId);
    await acceptInbound(db, inbound()); // pending, but recent

    let clock = 1_000_000;
    const read = strandedMessagesReader(db, { olderThanMs: 60_000, cacheMs: 5000, now: () => clock });
    expect(await read()).toBe(1);
    await age((await acceptInbound(db, inbound())).messageId);
    clock += 4999;
    expect(await read()).toBe(1);
    clock += 1;
    expect(await read()).toBe(2);
  });
});

describe('a web process with no scheduler running', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, ['web']);
  }, 60_000);
  afterAll(async () => {
    await app.stop();
  });

  it('reports accepted messages pending longer than STRANDED_AFTER_SECONDS in /health/ and /metrics', async () => {
    const stranded = inboundParams();
    expect((await app.postSigned('/api/whatsapp/webhook/', stranded)).status).toBe(200);
    expect((await app.postSigned('/api/whatsapp/webhook/', inboundParams())).status).toBe(200);
    // No worker takes them; one of them has waited longer than the threshold.
    await app.query(
      `update messages set created_at = now() - interval '2 minutes' where provider_message_id = $1`,
      [stranded.MessageSid],
    );

    const health = await fetch(`${app.url}/health/`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { checks: Record<string, unknown> };
    expect(body.checks.stranded).toMatchObject({ status: 'up', messages: 1, pendingLongerThanSeconds: 60 });

    const metrics = await fetch(`${app.url}/metrics`);
    expect(valueOf(parseExposition(await metrics.text()), 'chatbot_stranded_messages')).toBe(1);
  });
});
