import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import {
  acceptInbound,
  claimDeliverySending,
  recordDeliveryStatus,
  recordSendFailure,
  recordSent,
  saveReply,
  unsentDeliveries,
  type Delivery,
} from '../../src/db/messages.js';
import { deliveries, deliveryEvents } from '../../src/db/schema.js';
import { deliveryRank, isBetterStatus } from '../../src/domain/delivery.js';
import type { DeliveryStatus } from '../../src/domain/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound, plainReply, sender, sid } from './fixtures.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

/** A stored reply of `parts` in a conversation of `from`; returns its unsent parts. */
async function replyWith(parts: string[], from = sender()): Promise<Delivery[]> {
  const accepted = await acceptInbound(db, inbound({ from }));
  await saveReply(db, plainReply(accepted.conversationId, [accepted.messageId], parts, from));
  return unsentDeliveries(db, accepted.conversationId);
}

async function row(id: string) {
  const [found] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  return found!;
}

describe('delivery ranking', () => {
  it.each<[DeliveryStatus, DeliveryStatus, boolean]>([
    ['sending', 'pending', true],
    ['queued', 'sending', true],
    ['accepted', 'queued', false],
    ['sent', 'scheduled', true],
    ['failed', 'sent', true],
    ['undelivered', 'failed', false],
    ['delivered', 'failed', true],
    ['read', 'delivered', true],
    ['sent', 'delivered', false],
    ['queued', 'read', false],
    ['canceled', 'unknown', false],
  ])('%s replaces %s: %s', (next, current, expected) => {
    expect(isBetterStatus(next, current)).toBe(expected);
  });

  it('ranks the groups in order', () => {
    const ranks = (['pending', 'sending', 'queued', 'sent', 'failed', 'delivered', 'read'] as const).map(
      deliveryRank,
    );
    expect(ranks).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('sending parts', () => {
  it('lists unsent parts in reading order across replies', async () => {
    const from = sender();
    await replyWith(['1a', '1b'], from);
    const all = await replyWith(['2a'], from);
    expect(all.map((d) => [d.body, d.partIndex, d.partCount, d.status, d.attempts, d.to, d.from])).toEqual([
      ['1a', 0, 2, 'pending', 0, from, null],
      ['1b', 1, 2, 'pending', 0, from, null],
      ['2a', 0, 1, 'pending', 0, from, null],
    ]);
  });

  it('claims a part for sending, counting the attempt, and not once it is sent', async () => {
    const [part] = await replyWith(['hello']);
    expect(await claimDeliverySending(db, part!.id)).toBe(true);
    const [claimed] = await unsentDeliveries(db, part!.conversationId);
    expect(claimed).toMatchObject({ status: 'sending', attempts: 1 });
    expect(claimed?.sendingStartedAt).toBeInstanceOf(Date);

    // A part found in 'sending' (crash mid-send) can be claimed again.
    expect(await claimDeliverySending(db, part!.id)).toBe(true);
    expect((await row(part!.id)).attempts).toBe(2);

    await recordSent(db, part!.id, sid(), 'queued');
    expect(await claimDeliverySending(db, part!.id)).toBe(false);
    expect(await unsentDeliveries(db, part!.conversationId)).toEqual([]);
  });

  it('records the SID and status of a sent part', async () => {
    const [part] = await replyWith(['hello']);
    const messageSid = sid();
    await claimDeliverySending(db, part!.id);
    await recordSent(db, part!.id, messageSid, 'queued');
    const stored = await row(part!.id);
    expect(stored).toMatchObject({ providerMessageId: messageSid, status: 'queued' });
    expect(stored.sentAt).toBeInstanceOf(Date);
  });

  it('a transient failure puts the part back to pending and keeps the error; a permanent one fails it', async () => {
    const [transient, permanent] = await replyWith(['a', 'b']);
    await claimDeliverySending(db, transient!.id);
    await recordSendFailure(db, transient!.id, {
      code: '20429',
      message: 'Too Many Requests',
      permanent: false,
    });
    expect(await row(transient!.id)).toMatchObject({
      status: 'pending',
      errorCode: '20429',
      errorMessage: 'Too Many Requests',
    });

    // A failure that may have come after the channel took the message keeps the part 'sending': checked first.
    const [ambiguous] = await replyWith(['c']);
    await claimDeliverySending(db, ambiguous!.id);
    await recordSendFailure(db, ambiguous!.id, {
      code: null,
      message: 'network error ETIMEDOUT',
      permanent: false,
      ambiguous: true,
    });
    expect(await row(ambiguous!.id)).toMatchObject({
      status: 'sending',
      errorMessage: 'network error ETIMEDOUT',
    });

    await claimDeliverySending(db, permanent!.id);
    await recordSendFailure(db, permanent!.id, {
      code: '63016',
      message: 'outside the 24h window',
      permanent: true,
    });
    expect(await row(permanent!.id)).toMatchObject({ status: 'failed', errorCode: '63016' });
    expect((await unsentDeliveries(db, permanent!.conversationId)).map((d) => d.id)).toEqual([transient!.id]);
  });
});

describe('status callbacks', () => {
  async function sentPart(status: DeliveryStatus = 'queued') {
    const [part] = await replyWith(['hello']);
    const messageSid = sid();
    await recordSent(db, part!.id, messageSid, status);
    return { id: part!.id, messageSid };
  }

  it('callbacks arriving out of order never move a part backwards', async () => {
    const { id, messageSid } = await sentPart();
    const statuses: DeliveryStatus[] = ['delivered', 'sent', 'queued', 'read', 'delivered', 'failed'];
    for (const status of statuses) {
      expect(
        await recordDeliveryStatus(db, { providerMessageId: messageSid, status, errorCode: null }),
      ).toEqual({
        known: true,
      });
    }
    expect((await row(id)).status).toBe('read');
    const events = await db
      .select()
      .from(deliveryEvents)
      .where(eq(deliveryEvents.providerMessageId, messageSid));
    expect(events.map((e) => e.status).sort()).toEqual(['delivered', 'failed', 'queued', 'read', 'sent']);
  });

  it('a failure after sent is kept with its error code', async () => {
    const { id, messageSid } = await sentPart();
    await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'sent', errorCode: null });
    await recordDeliveryStatus(db, {
      providerMessageId: messageSid,
      status: 'undelivered',
      errorCode: '63024',
    });
    expect(await row(id)).toMatchObject({ status: 'undelivered', errorCode: '63024' });
  });

  it('a callback that beats recordSent is applied when the SID is stored', async () => {
    const [part] = await replyWith(['fast']);
    const messageSid = sid();
    await claimDeliverySending(db, part!.id);
    expect(
      await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'delivered', errorCode: null }),
    ).toEqual({
      known: false,
    });
    await recordSent(db, part!.id, messageSid, 'queued');
    expect(await row(part!.id)).toMatchObject({ providerMessageId: messageSid, status: 'delivered' });
  });

  it('an early failed callback brings its error code along', async () => {
    const [part] = await replyWith(['doomed']);
    const messageSid = sid();
    await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'failed', errorCode: '63003' });
    await recordSent(db, part!.id, messageSid, 'queued');
    expect(await row(part!.id)).toMatchObject({ status: 'failed', errorCode: '63003' });
  });

  it('an earlier attempt’s error never sticks to the part once a send went through', async () => {
    const [part] = await replyWith(['retried']);
    await claimDeliverySending(db, part!.id);
    await recordSendFailure(db, part!.id, { code: '20429', message: 'Too many requests', permanent: false });
    const messageSid = sid();
    // The callback for the SID beat recordSent and says failed, without an error code.
    await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'failed', errorCode: null });
    await recordSent(db, part!.id, messageSid, 'queued');
    expect(await row(part!.id)).toMatchObject({ status: 'failed', errorCode: null, errorMessage: null });
  });

  it('callbacks racing recordSent are never lost', async () => {
    const parts = await replyWith(Array.from({ length: 10 }, (_, i) => `part ${i}`));
    await Promise.all(
      parts.map(async (part) => {
        const messageSid = sid();
        await Promise.all([
          recordSent(db, part.id, messageSid, 'queued'),
          recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'delivered', errorCode: null }),
        ]);
      }),
    );
    for (const part of parts) expect((await row(part.id)).status).toBe('delivered');
  });

  it('a repeated callback is stored once', async () => {
    const { messageSid } = await sentPart();
    await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'sent', errorCode: null });
    await recordDeliveryStatus(db, { providerMessageId: messageSid, status: 'sent', errorCode: null });
    const events = await db
      .select()
      .from(deliveryEvents)
      .where(eq(deliveryEvents.providerMessageId, messageSid));
    expect(events).toHaveLength(1);
  });
});
