/**
 * The sweep prunes delivery_events with the webhook logs' retention and reports both counts.
 */
import { expect, it } from 'vitest';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { silentLogger } from '../../src/log.js';
import { sweep } from '../../src/pipeline/sweep.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const file = databaseForFile();

it('prunes old delivery events and webhook logs with WEBHOOK_LOG_RETENTION_DAYS and reports both', async () => {
  await file.pool.query(
    `insert into delivery_events (provider_message_id, status, received_at)
     select 'SM' || i, 'sent', case when i <= 3 then now() - interval '8 days' else now() end
     from generate_series(1, 5) i`,
  );
  await file.pool.query(
    `insert into webhook_logs (channel, kind, method, path, response_status, processing_time_ms, created_at)
     select 'twilio', 'status', 'POST', '/api/whatsapp/status/', 200, 1, now() - interval '8 days'
     from generate_series(1, 2)`,
  );
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const deps = {
    db: file.testDb.database.db,
    queue,
    locks: createMemoryLocks(),
    log: silentLogger(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    channelFor: () => undefined,
    settings: pipelineSettings(),
  };
  const settings = {
    strandedAfterMs: 60_000,
    sessionTimeoutMs: 60_000,
    webhookLogRetentionDays: 7,
    handoffIdleMs: 0,
    retentionDays: 0,
  };
  const result = await sweep(deps, settings, 1000);
  await queue.close();

  expect(result).toMatchObject({ pruned: 2, prunedDeliveryEvents: 3 });
  const left = await file.pool.query<{ id: string }>(
    'select provider_message_id as id from delivery_events order by id',
  );
  expect(left.rows.map((r) => r.id)).toEqual(['SM4', 'SM5']);
});
