/**
 * audit_log rows: every operator action, append-only. Written by src/inbox/audit.ts (which knows the actor);
 * read by the admin's audit page and the data-rights export.
 */
import { and, desc, eq, like, or, sql } from 'drizzle-orm';
import type { Actor } from '../domain/roles.js';
import type { Db } from './connect.js';
import { auditLog } from './schema.js';
import { storableJson, storableText } from './storable.js';

export interface AuditEntry {
  id: string;
  createdAt: Date;
  actorKind: Actor['kind'];
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  target?: { type: string; id: string } | undefined;
  details?: Record<string, unknown> | undefined;
}

export async function insertAudit(db: Db, input: AuditInput): Promise<void> {
  await db.insert(auditLog).values({
    actorKind: input.actor.kind,
    actorId: input.actor.id,
    actorName: storableText(input.actor.name),
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    ip: input.actor.ip,
    details: storableJson(input.details ?? {}),
  });
}

/** Where a page of the log ends: a row's created_at to the microsecond (a Date keeps only milliseconds) and id. */
export interface AuditCursor {
  at: string;
  id: string;
}

export interface AuditFilter {
  target?: { type: string; id: string } | undefined;
  /** An exact action (`login.failure`) or a family (`login` matches `login.success` and `login.failure`). */
  action?: string | undefined;
  /** The actor's name exactly as recorded (a username, `cli`, `token <name>`). */
  actorName?: string | undefined;
}

// The cursor's text form, in UTC with microseconds, so it compares exactly with the stored timestamp.
const exactAt = sql<string>`to_char(${auditLog.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Newest first, keyset-paginated by (created_at, id) so a deep page costs what the first one does. Each entry
 * comes with its cursor: pass the last one as `before` for the next (older) page.
 */
export async function listAudit(
  db: Db,
  options: AuditFilter & { limit: number; before?: AuditCursor | undefined },
): Promise<Array<AuditEntry & { cursor: AuditCursor }>> {
  const conditions = [];
  if (options.before) {
    const { at, id } = options.before;
    conditions.push(sql`(${auditLog.createdAt}, ${auditLog.id}) < (${at}::timestamptz, ${id}::uuid)`);
  }
  if (options.target) {
    conditions.push(eq(auditLog.targetType, options.target.type), eq(auditLog.targetId, options.target.id));
  }
  if (options.action) {
    conditions.push(
      or(eq(auditLog.action, options.action), like(auditLog.action, `${escapeLike(options.action)}.%`)),
    );
  }
  if (options.actorName) conditions.push(eq(auditLog.actorName, options.actorName));
  const rows = await db
    .select({ entry: auditLog, at: exactAt })
    .from(auditLog)
    .where(conditions.length > 0 ? and(...conditions) : sql`true`)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(options.limit);
  return rows.map(({ entry, at }) => ({
    ...entry,
    actorKind: entry.actorKind as Actor['kind'],
    cursor: { at, id: entry.id },
  }));
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
