/**
 * api_tokens rows: the bearer tokens of the HTTP API (`/api/v1/`). Only the SHA-256 of a token is stored, so a
 * leaked database does not leak working tokens; the token itself is shown once, when it is created. A token is
 * looked up by its hash (an exact index lookup, so no constant-time comparison is needed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import { AppError } from '../domain/errors.js';
import { isRole, type OperatorRole } from '../domain/roles.js';
import type { Db } from './connect.js';
import { apiTokens } from './schema.js';

/** Recognisable in logs, configs and secret scanners: `wacb_` + 32 random bytes in base64url. */
export const API_TOKEN_PREFIX = 'wacb_';
const TOKEN = /^wacb_[A-Za-z0-9_-]{43}$/;

/** A busy integration writes last_used_at at most this often, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiToken {
  id: string;
  name: string;
  role: OperatorRole;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why this token name is not acceptable, or null. */
export function apiTokenNameProblem(name: string): string | null {
  return NAME.test(name)
    ? null
    : 'the token name must be 1–64 letters, digits or . _ - (starting with a letter or digit)';
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when the string has the shape of a token we issue (checked before any database lookup). */
export function looksLikeApiToken(value: string): boolean {
  return TOKEN.test(value);
}

const COLUMNS = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

// The CHECK constraint keeps `role` to the OperatorRole values.
const view = (row: { role: string } & Omit<ApiToken, 'role'>): ApiToken => ({
  ...row,
  role: row.role as OperatorRole,
});

/**
 * Create a live token; returns it with the only copy of the secret. Throws invalid_input for a bad name or
 * role, and invalid_input `already_exists` when a live token has this name (the partial unique index decides).
 */
export async function createApiToken(
  db: Db,
  input: { name: string; role: string },
): Promise<{ token: string; apiToken: ApiToken }> {
  const problem = apiTokenNameProblem(input.name);
  if (problem) throw new AppError('invalid_input', problem);
  if (!isRole(input.role)) {
    throw new AppError('invalid_input', `unknown role "${input.role}": use admin, agent or viewer`);
  }
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const rows = await db
    .insert(apiTokens)
    .values({ name: input.name, role: input.role, tokenHash: hashApiToken(token) })
    .onConflictDoNothing({ target: apiTokens.name, where: sql`${apiTokens.revokedAt} is null` })
    .returning(COLUMNS);
  const row = rows[0];
  if (!row) {
    throw new AppError('invalid_input', `a live API token named "${input.name}" already exists`, {
      code: 'already_exists',
    });
  }
  return { token, apiToken: view(row) };
}

/**
 * The live (not revoked) token with this secret, or null. Records the use, at most once per
 * LAST_USED_RESOLUTION_MS per token: the condition is in the UPDATE too, so concurrent requests write once.
 */
export async function authenticateApiToken(db: Db, token: string): Promise<ApiToken | null> {
  if (!looksLikeApiToken(token)) return null;
  const rows = await db
    .select(COLUMNS)
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashApiToken(token)), isNull(apiTokens.revokedAt)));
  const row = rows[0];
  if (!row) return null;
  if (row.lastUsedAt === null || Date.now() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiTokens.id, row.id),
          or(
            isNull(apiTokens.lastUsedAt),
            sql`${apiTokens.lastUsedAt} <= now() - make_interval(secs => ${LAST_USED_RESOLUTION_MS / 1000})`,
          ),
        ),
      );
  }
  return view(row);
}

/** Every token, live ones first, then by name; revoked ones stay listed (the audit log names them). */
export async function listApiTokens(db: Db): Promise<ApiToken[]> {
  const rows = await db
    .select(COLUMNS)
    .from(apiTokens)
    .orderBy(sql`${apiTokens.revokedAt} is not null`, asc(apiTokens.name), asc(apiTokens.createdAt));
  return rows.map(view);
}

/** Revoke the live token with this name, or the token with this id; null when there is no live one. */
export async function revokeApiToken(db: Db, nameOrId: string): Promise<ApiToken | null> {
  const match = UUID.test(nameOrId)
    ? or(eq(apiTokens.id, nameOrId), eq(apiTokens.name, nameOrId))
    : eq(apiTokens.name, nameOrId);
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(match, isNull(apiTokens.revokedAt)))
    .returning(COLUMNS);
  return rows[0] ? view(rows[0]) : null;
}
