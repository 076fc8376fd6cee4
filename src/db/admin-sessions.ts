/**
 * admin_sessions rows. The admin's session rules (token, hashing, sliding expiry) are in admin/sessions.ts;
 * this module only reads and writes the table, keyed by the token's hash.
 */
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { OperatorRole } from '../domain/roles.js';
import type { Db } from './connect.js';
import { adminSessions, adminUsers } from './schema.js';

export interface AdminSessionRow {
  id: string;
  userId: string;
  username: string;
  /** The account's role (domain/roles.ts), read on every request so a changed role applies at once. */
  role: OperatorRole;
  csrfToken: string;
  lastSeenAt: Date;
}

/** Stores a new session and returns its user's name and role; expired rows go whenever someone logs in. */
export async function insertAdminSession(
  db: Db,
  row: {
    id: string;
    userId: string;
    csrfToken: string;
    expiresAt: Date;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<{ username: string; role: OperatorRole }> {
  await db.insert(adminSessions).values(row);
  const user = await db
    .select({ username: adminUsers.username, role: adminUsers.role })
    .from(adminUsers)
    .where(eq(adminUsers.id, row.userId));
  // No scheduler job needed for a table this small.
  await db.delete(adminSessions).where(lt(adminSessions.expiresAt, sql`now()`));
  return { username: user[0]?.username ?? '', role: (user[0]?.role ?? 'viewer') as OperatorRole };
}

/** The unexpired session with this id, with its user's name, or null. */
export async function findLiveAdminSession(db: Db, id: string): Promise<AdminSessionRow | null> {
  const rows = await db
    .select({
      id: adminSessions.id,
      userId: adminSessions.userId,
      username: adminUsers.username,
      role: adminUsers.role,
      csrfToken: adminSessions.csrfToken,
      lastSeenAt: adminSessions.lastSeenAt,
    })
    .from(adminSessions)
    .innerJoin(adminUsers, eq(adminUsers.id, adminSessions.userId))
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, sql`now()`)));
  const row = rows[0];
  // The CHECK constraint keeps `role` to the OperatorRole values.
  return row ? { ...row, role: row.role as OperatorRole } : null;
}

/** Marks the session used now and moves its expiry to `expiresAt`. */
export async function touchAdminSession(db: Db, id: string, expiresAt: Date): Promise<void> {
  await db
    .update(adminSessions)
    .set({ lastSeenAt: sql`now()`, expiresAt })
    .where(eq(adminSessions.id, id));
}

export async function deleteAdminSession(db: Db, id: string): Promise<void> {
  await db.delete(adminSessions).where(eq(adminSessions.id, id));
}
