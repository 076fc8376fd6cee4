import { defineConfig } from 'vitest/config';

/**
 * The suites that need neither PostgreSQL nor Redis (pure logic, fake HTTP servers on 127.0.0.1, PGlite, child
 * processes that need no service, closed ports on purpose). `npm run test:no-services` (vitest --mode
 * no-services) runs only these, without the service check; `npm test` runs everything and needs both services.
 * A file belongs here only if it imports nothing that connects to them (test/helpers/app.ts's startTestApp,
 * test/helpers/database.ts, TEST_REDIS_URL); README "Running the tests" has the table by folder.
 */
export const NO_SERVICES = [
  'test/observability/media-metrics.test.ts',
  'test/admin/html.test.ts',
  'test/admin/live/thread-feeds.test.ts',
  'test/admin/views/wait-time.test.ts',
  'test/ai/anthropic.test.ts',
  'test/ai/errors.test.ts',
  'test/ai/fake-llm-server.test.ts',
  'test/ai/images.test.ts',
  'test/ai/offline.test.ts',
  'test/ai/openai-compatible.test.ts',
  'test/ai/select.test.ts',
  'test/ai/tools.test.ts',
  'test/ai/transcribe.test.ts',
  'test/channels/simulator/channel.test.ts',
  'test/channels/simulator/page.test.ts',
  'test/channels/meta/**/*.test.ts',
  'test/channels/twilio/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/db/pglite.test.ts',
  'test/docker/build.test.ts',
  'test/docker/compose.test.ts',
  'test/docker/dependencies.test.ts',
  'test/docker/dockerfile.test.ts',
  'test/domain/**/*.test.ts',
  'test/e2e/security-startup.test.ts',
  'test/e2e/zero-setup.test.ts',
  'test/errors/categorize.test.ts',
  'test/errors/handoff-notifier.test.ts',
  'test/errors/redact.test.ts',
  // test/http/meta/ drives the Meta route on a real PostgreSQL.
  'test/http/*.test.ts',
  'test/inbox/ai-config-audit.test.ts',
  'test/infra/backoff.test.ts',
  'test/lint/**/*.test.ts',
  'test/infra/memory.test.ts',
  'test/log/config.test.ts',
  'test/media/**/*.test.ts',
  'test/log/logger.test.ts',
  'test/observability/metrics.test.ts',
  'test/pipeline/sweep.test.ts',
  'test/security/**/*.test.ts',
];

export default defineConfig(({ mode }) => {
  const noServices = mode === 'no-services';
  return {
    test: {
      include: noServices ? NO_SERVICES : ['test/**/*.test.ts'],
      // Everything else needs the real services: checked once up front, failing loudly (never skipped).
      globalSetup: noServices ? [] : ['test/setup/services.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      // Test files run in parallel processes; each uses its own database and Redis key prefix.
      pool: 'forks',
      // The second repeats unhandled errors after the summary, so a log cut to its tail still shows them.
      reporters: ['default', './test/setup/unhandled-errors-reporter.ts'],
    },
  };
});
