/**
 * audit_log rows: every operator action, append-only. Written by src/inbox/audit.ts (which knows the actor);
 * read by the admin's audit page and the data-rights export.
 */
import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
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

/** Newest first, keyset-paginated by (created_at, id) so a deep page costs what the first one does. */
export async function listAudit(
  db: Db,
  options: {
    limit: number;
    before?: { createdAt: Date; id: string } | undefined;
    target?: { type: string; id: string } | undefined;
  },
): Promise<AuditEntry[]> {
  const conditions = [];
  if (options.before) {
    const { createdAt, id } = options.before;
    conditions.push(
      or(lt(auditLog.createdAt, createdAt), and(eq(auditLog.createdAt, createdAt), lt(auditLog.id, id))),
    );
  }
  if (options.target) {
    conditions.push(eq(auditLog.targetType, options.target.type), eq(auditLog.targetId, options.target.id));
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(conditions.length > 0 ? and(...conditions) : sql`true`)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(options.limit);
  return rows.map((row) => ({ ...row, actorKind: row.actorKind as Actor['kind'] }));
}
