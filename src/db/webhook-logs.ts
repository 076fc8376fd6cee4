import { lt, sql } from 'drizzle-orm';
import type { ChannelName } from '../domain/types.js';
import type { Db } from './connect.js';
import { storableJson, storableText } from './storable.js';
import { webhookLogs } from './schema.js';

/** One webhook call as the operator sees it in the admin. Callers redact secrets; this stores what it is given
 * (minus what PostgreSQL cannot hold, see storable.ts). */
export interface WebhookLogInput {
  channel: ChannelName;
  kind: 'inbound' | 'status';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  responseStatus: number;
  processingTimeMs: number;
  error?: string | null;
  providerMessageId?: string | null;
}

/** The row values of a log entry, as webhook-log-writer.ts stores them. */
export function webhookLogRow(entry: WebhookLogInput): typeof webhookLogs.$inferInsert {
  return {
    channel: entry.channel,
    kind: entry.kind,
    method: entry.method,
    path: storableText(entry.path),
    headers: storableJson(entry.headers),
    body: storableJson(entry.body),
    responseStatus: entry.responseStatus,
    processingTimeMs: entry.processingTimeMs,
    error: entry.error == null ? null : storableText(entry.error),
    providerMessageId: entry.providerMessageId ?? null,
  };
}

/** Delete log rows older than olderThanDays; returns how many. */
export async function pruneWebhookLogs(db: Db, olderThanDays: number): Promise<number> {
  const pruned = db.$with('pruned').as(
    db
      .delete(webhookLogs)
      .where(lt(webhookLogs.createdAt, sql`now() - make_interval(days => ${olderThanDays})`))
      .returning({ id: webhookLogs.id }),
  );
  const rows = await db
    .with(pruned)
    .select({ count: sql<number>`count(*)::int` })
    .from(pruned);
  return rows[0]?.count ?? 0;
}
