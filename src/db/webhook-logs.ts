import { sql } from 'drizzle-orm';
import type { ChannelName } from '../domain/types.js';
import type { Db } from './connect.js';
import { daysAgo, deleteInBatches, PRUNE_BATCHES, type PruneBatches } from './prune.js';
import { rowsOf } from './rows.js';
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

/**
 * The WhatsApp Business Account a Meta phone number id belongs to, as Meta's own webhooks named it (`entry[].id`
 * beside `changes[].value.metadata.phone_number_id`), newest first; null before any webhook for it was logged.
 * `chatbot validate-config` needs it to ask whether the app is subscribed to the account's webhooks.
 */
export async function businessAccountOf(db: Db, phoneNumberId: string): Promise<string | null> {
  const rows = rowsOf<{ account: string | null }>(
    await db.execute(sql`
      select entry ->> 'id' as account
      from webhook_logs log
        cross join lateral jsonb_array_elements(case when jsonb_typeof(log.body -> 'entry') = 'array'
          then log.body -> 'entry' else '[]'::jsonb end) entry
        cross join lateral jsonb_array_elements(case when jsonb_typeof(entry -> 'changes') = 'array'
          then entry -> 'changes' else '[]'::jsonb end) change
      where log.channel = 'meta' and log.response_status = 200
        and change -> 'value' -> 'metadata' ->> 'phone_number_id' = ${phoneNumberId}
      order by log.created_at desc
      limit 1`),
  );
  return rows[0]?.account ?? null;
}
