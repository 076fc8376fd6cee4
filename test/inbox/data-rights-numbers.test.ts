/**
 * A person's data rights cover their conversations with every one of our numbers: the export lists both, the
 * erasure removes both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/db/messages.js';
import { CLI_ACTOR } from '../../src/domain/roles.js';
import { eraseUserData, exportUserData } from '../../src/inbox/data-rights.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { inbound, rows } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.close();
});

/** What export and erasure need, with in-process hot state and a readable pseudonym. */
function rightsDeps() {
  return {
    db: testDb.database.db,
    log: silentLogger(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    limiter: createMemoryRateLimiter(),
    locks: createMemoryLocks(),
    pseudonymize: (address: string) => `p:${address}`,
    webhookLogRetentionDays: 30,
  };
}

describe('data rights across business numbers', () => {
  it('exports and erases the person’s conversations with both numbers', async () => {
    const db = testDb.database.db;
    const deps = rightsDeps();
    const person = 'whatsapp:+14155550990';
    const sales = await acceptInbound(db, inbound({ from: person, to: 'whatsapp:+14155230010' }));
    const support = await acceptInbound(db, inbound({ from: person, to: 'whatsapp:+14155230020' }));

    const exported = await exportUserData(deps, { actor: CLI_ACTOR, address: person });
    expect(exported.conversations.map((c) => c.id).sort()).toEqual(
      [sales.conversationId, support.conversationId].sort(),
    );

    const erased = await eraseUserData(deps, { actor: CLI_ACTOR, address: person, confirm: true });
    expect(erased.erased).toBe(true);
    const left = await db.execute(
      `select count(*)::int as n from conversations where user_address = '${person}'`,
    );
    expect(rows(left)).toEqual([{ n: 0 }]);
  });

  it('finds a person on Twilio (whatsapp:+E164) and on Meta (+E164) however the number is typed', async () => {
    const db = testDb.database.db;
    const deps = rightsDeps();
    const phone = '+14155550991';
    const onTwilio = await acceptInbound(db, inbound({ from: `whatsapp:${phone}` }));
    const onMeta = await acceptInbound(
      db,
      inbound({ channel: 'meta', from: phone, to: '106540352242922', providerMessageId: `wamid.${phone}` }),
    );
    const both = [onTwilio.conversationId, onMeta.conversationId].sort();
    for (const typed of [phone, `whatsapp:${phone}`]) {
      const exported = await exportUserData(deps, { actor: CLI_ACTOR, address: typed });
      expect(exported.conversations.map((c) => c.id).sort()).toEqual(both);
    }
    const erased = await eraseUserData(deps, { actor: CLI_ACTOR, address: phone, confirm: true });
    expect(erased.erased).toBe(true);
    const left = await db.execute(
      `select count(*)::int as n from conversations where id in ('${both[0] ?? ''}', '${both[1] ?? ''}')`,
    );
    expect(rows(left)).toEqual([{ n: 0 }]);
  });
});
