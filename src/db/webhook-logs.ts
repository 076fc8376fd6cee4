import { sql } from 'drizzle-orm';
import type { ChannelName } from '../domain/types.js';
import type { Db } from './connect.js';
import { daysAgo, deleteInBatches, PRUNE_BATCHES, type PruneBatches } from './prune.js';
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

/**
 * Deletes log rows older than `olderThanDays`, oldest first, in bounded batches (prune.ts): at most
 * `batches.batchSize × batches.maxBatches` rows a call. Returns how many went.
 */
export async function pruneWebhookLogs(
  db: Db,
  olderThanDays: number,
  batches: PruneBatches = PRUNE_BATCHES,
): Promise<number> {
  return deleteInBatches(
    db,
    (limit) => sql`delete from webhook_logs where id in (
      select id from webhook_logs where created_at < ${daysAgo(olderThanDays)} order by created_at limit ${limit}
    ) returning 1`,
    batches,
  );
}
