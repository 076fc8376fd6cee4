/**
 * Runs once before the suites of `npm test`: PostgreSQL and Redis must be reachable, or the run fails loudly.
 * Tests that need them are never skipped (a skipped integration test proves nothing). `npm run
 * test:no-services` runs only the suites that need neither, without this check (vitest.config.ts).
 */
import net from 'node:net';
import { TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL } from '../helpers/services.js';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export default async function setup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable(TEST_DATABASE_ADMIN_URL))) missing.push(`PostgreSQL at ${TEST_DATABASE_ADMIN_URL}`);
  if (!(await reachable(TEST_REDIS_URL))) missing.push(`Redis at ${TEST_REDIS_URL}`);
  if (missing.length > 0) {
    throw new Error(
      `The test suites need real services, and these are not reachable: ${missing.join(', ')}.\n` +
        'Start them (see README "Running the tests") or point TEST_DATABASE_URL / TEST_REDIS_URL at them, or run\n' +
        'only the suites that need neither: npm run test:no-services.',
    );
  }
}
