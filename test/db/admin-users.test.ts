import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateAdmin,
  createAdminUser,
  deleteAdminUser,
  getAdminUserById,
  getAdminUserByUsername,
  listAdminUsers,
  setAdminPassword,
  verifyPassword,
} from '../../src/db/admin-users.js';
import type { Db } from '../../src/db/connect.js';
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

describe('admin users', () => {
  it('stores only a scrypt hash that verifies the password', async () => {
    const user = await createAdminUser(db, { username: 'ada', password: 'analytical-engine' });
    expect(user).not.toHaveProperty('passwordHash');
    const row = await getAdminUserByUsername(db, 'ada');
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(row?.passwordHash).not.toContain('analytical');
    expect(await verifyPassword(row!.passwordHash, 'analytical-engine')).toBe(true);
    expect((await getAdminUserById(db, user.id))?.username).toBe('ada');
    expect(await getAdminUserById(db, 'nope')).toBeNull();
  });

  it('refuses a duplicate username, even when created concurrently', async () => {
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => createAdminUser(db, { username: 'grace', password: 'compiler-1952' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ kind: 'invalid_input', code: 'already_exists' });
  });

  it('refuses short passwords and odd usernames', async () => {
    await expect(createAdminUser(db, { username: 'bob', password: 'short' })).rejects.toThrow(/at least 10/);
    await expect(createAdminUser(db, { username: 'bob smith', password: 'long-enough-1' })).rejects.toThrow(
      /username/,
    );
    expect(await getAdminUserByUsername(db, 'bob')).toBeNull();
  });

  it('authenticates the right password, records the login, and refuses the rest', async () => {
    await createAdminUser(db, { username: 'linus', password: 'penguin-power' });
    expect(await authenticateAdmin(db, 'linus', 'wrong-password')).toBeNull();
    expect(await authenticateAdmin(db, 'nobody', 'penguin-power')).toBeNull();
    const user = await authenticateAdmin(db, 'linus', 'penguin-power');
    expect(user?.lastLoginAt).toBeInstanceOf(Date);
  });

  it('changes a password, lists and deletes accounts', async () => {
    await createAdminUser(db, { username: 'zed', password: 'first-password' });
    expect(await setAdminPassword(db, 'zed', 'second-password')).toBe(true);
    expect(await authenticateAdmin(db, 'zed', 'first-password')).toBeNull();
    expect(await authenticateAdmin(db, 'zed', 'second-password')).not.toBeNull();
    expect(await setAdminPassword(db, 'nobody', 'whatever-password')).toBe(false);
    expect((await listAdminUsers(db)).map((u) => u.username)).toContain('zed');
    expect(await deleteAdminUser(db, 'zed')).toBe(true);
    expect(await getAdminUserByUsername(db, 'zed')).toBeNull();
  });
});
