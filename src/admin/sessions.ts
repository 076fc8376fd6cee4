/**
 * Admin sessions in PostgreSQL (admin_sessions): they survive a restart of the web process and every web
 * replica sees the same ones. The browser holds a random 256-bit token; the table holds only its SHA-256, so
 * reading the table does not let anyone in. A session ends after `ttlMs` without a request, or at logout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { adminSessions, adminUsers } from '../db/schema.js';

export interface AdminSession {
  /** The stored id (a hash of the token), for logging and deletion; never the token itself. */
  id: string;
  userId: string;
  username: string;
  csrfToken: string;
}

/** Refresh last_seen/expiry at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function idOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  db: Db,
  input: { userId: string; ttlMs: number; ip: string | null; userAgent: string | null },
): Promise<{ token: string; session: AdminSession }> {
  const token = newToken();
  const csrfToken = newToken();
  const [row] = await db
    .insert(adminSessions)
    .values({
      id: idOf(token),
      userId: input.userId,
      csrfToken,
      expiresAt: new Date(Date.now() + input.ttlMs),
      ip: input.ip,
      userAgent: input.userAgent?.slice(0, 300) ?? null,
    })
    .returning({ id: adminSessions.id });
  const username = await db
    .select({ username: adminUsers.username })
    .from(adminUsers)
    .where(eq(adminUsers.id, input.userId));
  // Expired rows go whenever someone logs in: no scheduler job needed for a table this small.
  await db.delete(adminSessions).where(lt(adminSessions.expiresAt, sql`now()`));
  return {
    token,
    session: {
      id: row?.id ?? idOf(token),
      userId: input.userId,
      username: username[0]?.username ?? '',
      csrfToken,
    },
  };
}

/** The live session for a cookie token, or null; slides its expiry forward while it is used. */
export async function findSession(db: Db, token: string, ttlMs: number): Promise<AdminSession | null> {
  const id = idOf(token);
  const rows = await db
    .select({
      id: adminSessions.id,
      userId: adminSessions.userId,
      username: adminUsers.username,
      csrfToken: adminSessions.csrfToken,
      lastSeenAt: adminSessions.lastSeenAt,
    })
    .from(adminSessions)
    .innerJoin(adminUsers, eq(adminUsers.id, adminSessions.userId))
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, sql`now()`)));
  const row = rows[0];
  if (!row) return null;
  if (Date.now() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db
      .update(adminSessions)
      .set({ lastSeenAt: sql`now()`, expiresAt: new Date(Date.now() + ttlMs) })
      .where(eq(adminSessions.id, id));
  }
  return { id: row.id, userId: row.userId, username: row.username, csrfToken: row.csrfToken };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.delete(adminSessions).where(eq(adminSessions.id, idOf(token)));
}
