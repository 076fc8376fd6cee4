/** GET /admin/: today's figures, the queue, the model answering now, recent problems. */
import type { FastifyInstance } from 'fastify';
import { dashboardFigures, recentProblems } from '../../db/admin-queries.js';
import { getActiveAiConfig } from '../../db/ai-configs.js';
import type { QueueStats } from '../../ports.js';
import { sessionOf } from '../auth.js';
import { sendPage, type AdminContext } from '../routes.js';
import { dashboardPage } from '../views/dashboard.js';

export function registerDashboard(scope: FastifyInstance, { deps, options }: AdminContext): void {
  scope.get('/', async (request, reply) => {
    const [figures, problems, active, choice, queue] = await Promise.all([
      dashboardFigures(deps.db),
      recentProblems(deps.db),
      getActiveAiConfig(deps.db),
      deps.ai.current(),
      // Redis may be down while PostgreSQL is up: the page still shows, the queue card says so.
      deps.queue.stats().catch((error: unknown): QueueStats | null => {
        request.log.warn({ err: error }, 'queue stats unavailable');
        return null;
      }),
    ]);
    return sendPage(
      reply,
      dashboardPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        figures,
        problems,
        queue,
        model: {
          provider: choice.model.provider,
          name: choice.model.model,
          configName: active?.name ?? null,
        },
      }),
    );
  });
}
