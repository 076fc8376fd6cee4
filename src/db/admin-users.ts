/**
 * Operator accounts of the admin web UI (`chatbot createsuperuser` makes admins, `chatbot user-account` any
 * role). Passwords are stored only as scrypt hashes (security/passwords.ts).
 */
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import type { OperatorRole } from '../domain/roles.js';
import {
  burnVerificationTime,
  hashPassword,
  passwordProblem,
  verifyPassword,
} from '../security/passwords.js';
import type { Db } from './connect.js';
import { adminUsers } from './schema.js';

export { verifyPassword, passwordProblem };

export type AdminUserRow = Omit<typeof adminUsers.$inferSelect, 'role'> & { role: OperatorRole };
/** An account without its hash: what a page may show. */
export type AdminUser = Omit<AdminUserRow, 'passwordHash'>;

// As Django's: letters, digits and @ . + - _, so a username is safe in URLs, logs and terminals.
const USERNAME = /^[A-Za-z0-9@.+_-]{1,150}$/;

/** Why this username is not acceptable, or null. */
export function usernameProblem(username: string): string | null {
  return USERNAME.test(username) ? null : 'the username must be 1–150 letters, digits or @ . + - _';
}

// The CHECK constraint keeps `role` to the OperatorRole values.
function typed(row: typeof adminUsers.$inferSelect): AdminUserRow {
  return { ...row, role: row.role as OperatorRole };
}

function publicView(row: typeof adminUsers.$inferSelect): AdminUser {
  const { passwordHash: _hash, ...user } = typed(row);
  return user;
}

/**
 * Create an account. Throws AppError invalid_input for a bad username or password, or when the username is
 * taken (the unique constraint decides, so two concurrent creations cannot both succeed).
 */
export async function createAdminUser(
  db: Db,
  input: { username: string; password: string; role?: OperatorRole },
): Promise<AdminUser> {
  const problem = usernameProblem(input.username) ?? passwordProblem(input.password);
  if (problem) throw new AppError('invalid_input', problem);
  const passwordHash = await hashPassword(input.password);
  const rows = await db
    .insert(adminUsers)
    .values({ username: input.username, passwordHash, role: input.role ?? 'admin' })
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
  return rows[0] ? typed(rows[0]) : null;
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

/**
 * Give an account another role; it applies to its open sessions at their next request (sessions read the role
 * every time). The previous role, or null when there is no such user.
 */
export async function setAdminUserRole(
  db: Db,
  username: string,
  role: OperatorRole,
): Promise<{ user: AdminUser; previous: OperatorRole } | null> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(adminUsers)
      .where(eq(adminUsers.username, username))
      .for('update');
    if (!before) return null;
    const [after] = await tx.update(adminUsers).set({ role }).where(eq(adminUsers.id, before.id)).returning();
    return { user: publicView(after ?? before), previous: typed(before).role };
  });
}

/** How many accounts hold each role (a role nobody holds is absent). */
export async function countAdminUsersByRole(db: Db): Promise<Partial<Record<OperatorRole, number>>> {
  const counts: Partial<Record<OperatorRole, number>> = {};
  for (const user of await listAdminUsers(db)) counts[user.role] = (counts[user.role] ?? 0) + 1;
  return counts;
}

/** Delete an account; its sessions go with it (cascade), its audit rows stay (they keep its name). */
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
