/**
 * Admin sessions in PostgreSQL (admin_sessions): they survive a restart of the web process and every web
 * replica sees the same ones. The browser holds a random 256-bit token; the table holds only its SHA-256, so
 * reading the table does not let anyone in. A session ends after `ttlMs` without a request, or at logout.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.js';
import {
  deleteAdminSession,
  findLiveAdminSession,
  insertAdminSession,
  touchAdminSession,
} from '../db/admin-sessions.js';
import type { OperatorRole } from '../domain/roles.js';

export interface AdminSession {
  /** The stored id (a hash of the token), for logging and deletion; never the token itself. */
  id: string;
  userId: string;
  username: string;
  role: OperatorRole;
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
  const id = idOf(token);
  const { username, role } = await insertAdminSession(db, {
    id,
    userId: input.userId,
    csrfToken,
    expiresAt: new Date(Date.now() + input.ttlMs),
    ip: input.ip,
    userAgent: input.userAgent?.slice(0, 300) ?? null,
  });
  return {
    token,
    session: {
      id,
      userId: input.userId,
      username,
      role,
      csrfToken,
    },
  };
}

/** The live session for a cookie token, or null; slides its expiry forward while it is used. */
export async function findSession(db: Db, token: string, ttlMs: number): Promise<AdminSession | null> {
  const id = idOf(token);
  const row = await findLiveAdminSession(db, id);
  if (!row) return null;
  if (Date.now() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await touchAdminSession(db, id, new Date(Date.now() + ttlMs));
  }
  return {
    id: row.id,
    userId: row.userId,
    username: row.username,
    role: row.role,
    csrfToken: row.csrfToken,
  };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await deleteAdminSession(db, idOf(token));
}
