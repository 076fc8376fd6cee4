/**
 * Admin accounts (created with `chatbot createsuperuser`, used by the admin web UI). Passwords are stored only
 * as scrypt hashes (security/passwords.ts).
 */
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import {
  burnVerificationTime,
  hashPassword,
  passwordProblem,
  verifyPassword,
} from '../security/passwords.js';
import type { Db } from './connect.js';
import { adminUsers } from './schema.js';

export { verifyPassword, passwordProblem };

export type AdminUserRow = typeof adminUsers.$inferSelect;
/** An account without its hash: what a page may show. */
export type AdminUser = Omit<AdminUserRow, 'passwordHash'>;

// As Django's: letters, digits and @ . + - _, so a username is safe in URLs, logs and terminals.
const USERNAME = /^[A-Za-z0-9@.+_-]{1,150}$/;

/** Why this username is not acceptable, or null. */
export function usernameProblem(username: string): string | null {
  return USERNAME.test(username) ? null : 'the username must be 1–150 letters, digits or @ . + - _';
}

function publicView(row: AdminUserRow): AdminUser {
  const { passwordHash: _hash, ...user } = row;
  return user;
}

/**
 * Create an account. Throws AppError invalid_input for a bad username or password, or when the username is
 * taken (the unique constraint decides, so two concurrent creations cannot both succeed).
 */
export async function createAdminUser(
  db: Db,
  input: { username: string; password: string },
): Promise<AdminUser> {
  const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
  if (problem) throw new AppError('invalid_input', problem);
  const passwordHash = await hashPassword(input.password);
  const rows = await db
    .insert(adminUsers)
    .values({ username: input.username, passwordHash })
    .onConflictDoNothing({ target: adminUsers.username })
    .returning();
  const row = rows[0];
  if (!row) {
    throw new AppError('invalid_input', `an admin user named "${input.username}" already exists`, {
      code: 'already_exists',
    });
  }
  return publicView(row);
}

export async function getAdminUserByUsername(db: Db, username: string): Promise<AdminUserRow | null> {
  const rows = await db.select().from(adminUsers).where(eq(adminUsers.username, username)).limit(1);
  return rows[0] ?? null;
}

export async function getAdminUserById(db: Db, id: string): Promise<AdminUser | null> {
  if (!isUuid(id)) return null;
  const rows = await db.select().from(adminUsers).where(eq(adminUsers.id, id)).limit(1);
  return rows[0] ? publicView(rows[0]) : null;
}

export async function listAdminUsers(db: Db): Promise<AdminUser[]> {
  const rows = await db.select().from(adminUsers).orderBy(asc(adminUsers.username));
  return rows.map(publicView);
}

/**
 * The account when the username and password match, else null; records the login time. Takes as long for an
 * unknown username as for a wrong password.
 */
export async function authenticateAdmin(
  db: Db,
  username: string,
  password: string,
): Promise<AdminUser | null> {
  const row = await getAdminUserByUsername(db, username);
  if (!row) return burnVerificationTime(password).then(() => null);
  if (!(await verifyPassword(row.passwordHash, password))) return null;
  const [updated] = await db
    .update(adminUsers)
    .set({ lastLoginAt: new Date() })
    .where(eq(adminUsers.id, row.id))
    .returning();
  return publicView(updated ?? row);
}

/** Replace an account's password; false when there is no such user. */
export async function setAdminPassword(db: Db, username: string, password: string): Promise<boolean> {
  const problem = passwordProblem(password);
  if (problem) throw new AppError('invalid_input', problem);
  const passwordHash = await hashPassword(password);
  const rows = await db
    .update(adminUsers)
    .set({ passwordHash })
    .where(eq(adminUsers.username, username))
    .returning({ id: adminUsers.id });
  return rows.length > 0;
}

export async function deleteAdminUser(db: Db, username: string): Promise<boolean> {
  const rows = await db
    .delete(adminUsers)
    .where(eq(adminUsers.username, username))
    .returning({ id: adminUsers.id });
  return rows.length > 0;
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
