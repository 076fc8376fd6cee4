import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from '../../src/db/api-tokens.js';
import type { Db } from '../../src/db/connect.js';
import { rowsOf } from '../../src/db/rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(async () => {
  await testDb.close();
});

const rowOf = async (id: string) => {
  const result = await db.execute(`select token_hash from api_tokens where id = '${id}'`);
  const [raw] = rowsOf<{ token_hash: string }>(result);
  const token = (await listApiTokens(db)).find((t) => t.id === id);
  return { token_hash: raw?.token_hash, last_used_at: token?.lastUsedAt ?? null };
};

describe('API tokens', () => {
  it('stores only the SHA-256 of a wacb_ token, which authenticates as its name and role', async () => {
    const { token, apiToken } = await createApiToken(db, { name: 'crm', role: 'agent' });
    expect(token).toMatch(/^wacb_[A-Za-z0-9_-]{43}$/);
    const row = await rowOf(apiToken.id);
    expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(row.token_hash).not.toContain(token.slice(5, 20));
    expect(await authenticateApiToken(db, token)).toMatchObject({
      id: apiToken.id,
      name: 'crm',
      role: 'agent',
    });
    expect(await authenticateApiToken(db, `${token.slice(0, -1)}x`)).toBeNull();
    expect(await authenticateApiToken(db, 'not-a-token')).toBeNull();
  });

  it('refuses a second live token of the same name, a bad name and an unknown role', async () => {
    await createApiToken(db, { name: 'dup', role: 'viewer' });
    await expect(createApiToken(db, { name: 'dup', role: 'viewer' })).rejects.toMatchObject({
      kind: 'invalid_input',
      code: 'already_exists',
    });
    await expect(createApiToken(db, { name: 'has space', role: 'viewer' })).rejects.toMatchObject({
      kind: 'invalid_input',
    });
    await expect(createApiToken(db, { name: 'ok', role: 'owner' })).rejects.toThrow(/unknown role "owner"/);
  });

  it('revoked by name or id: no longer authenticates, listed as revoked, and the name can be reused', async () => {
    const first = await createApiToken(db, { name: 'zapier', role: 'agent' });
    const revoked = await revokeApiToken(db, 'zapier');
    expect(revoked?.id).toBe(first.apiToken.id);
    expect(await authenticateApiToken(db, first.token)).toBeNull();
    expect(await revokeApiToken(db, 'zapier')).toBeNull();

    const second = await createApiToken(db, { name: 'zapier', role: 'viewer' });
    expect((await revokeApiToken(db, second.apiToken.id))?.name).toBe('zapier');
    expect(await authenticateApiToken(db, second.token)).toBeNull();

    const listed = (await listApiTokens(db)).filter((t) => t.name === 'zapier');
    expect(listed).toHaveLength(2);
    for (const t of listed) expect(t.revokedAt).toBeInstanceOf(Date);
    expect(await revokeApiToken(db, 'no-such-token')).toBeNull();
  });

  it('records last use at most once a minute, however many requests come', async () => {
    const { token, apiToken } = await createApiToken(db, { name: 'busy', role: 'viewer' });
    expect((await rowOf(apiToken.id)).last_used_at).toBeNull();
    await authenticateApiToken(db, token);
    const firstUse = (await rowOf(apiToken.id)).last_used_at;
    expect(firstUse).toBeInstanceOf(Date);
    await Promise.all([1, 2, 3, 4, 5].map(() => authenticateApiToken(db, token)));
    expect((await rowOf(apiToken.id)).last_used_at?.getTime()).toBe(firstUse?.getTime());

    // A minute later (moved back in time here), the next request records the use again.
    await db.execute(
      `update api_tokens set last_used_at = now() - interval '61 seconds' where id = '${apiToken.id}'`,
    );
    const stale = (await rowOf(apiToken.id)).last_used_at;
    await authenticateApiToken(db, token);
    const refreshed = (await rowOf(apiToken.id)).last_used_at;
    expect(refreshed!.getTime()).toBeGreaterThan(stale!.getTime() + 60_000);
  });
});
