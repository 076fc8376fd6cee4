/** GET /admin/costs (?day=YYYY-MM-DD) and /admin/costs/conversations/<id>: model spend, read-only. */
import type { FastifyInstance } from 'fastify';
import { getConversation } from '../../db/conversations.js';
import { conversationCost, spendByConversation, spendByDay, spendByKey, spendOf } from '../../db/spend.js';
import { dayIn } from '../../domain/prices.js';
import { sessionOf } from '../auth.js';
import { html } from '../html.js';
import { sendPage, type AdminContext } from '../routes.js';
import { conversationCostPage, costsPage } from '../views/costs.js';

const DAYS = 30;
const TOP = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerCostRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  const timezone = deps.pricing?.timezone ?? 'UTC';

  scope.get<{ Querystring: { day?: string } }>('/costs', async (request, reply) => {
    const today = dayIn(new Date(), timezone);
    const asked = request.query.day;
    const day =
      asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) && !Number.isNaN(Date.parse(asked)) ? asked : today;
    const since = dayIn(new Date(Date.now() - (DAYS - 1) * 86_400_000), timezone);
    const [days, spent, byNumber, byModel, byUser, byConversation] = await Promise.all([
      spendByDay(deps.db, since),
      spendOf(deps.db, today, ''),
      spendByKey(deps.db, day, 'number', TOP),
      spendByKey(deps.db, day, 'model', TOP),
      spendByKey(deps.db, day, 'user', TOP),
      spendByConversation(deps.db, day, TOP),
    ]);
    return sendPage(
      reply,
      costsPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        timezone,
        today,
        day,
        spentTodayMicros: spent.globalMicros,
        caps: {
          userDailyMicros: deps.pricing?.userDailyCapMicros ?? 0,
          dailyMicros: deps.pricing?.dailyCapMicros ?? 0,
          cheaperModel: deps.pricing?.cheaperModel?.model ?? null,
        },
        days,
        byNumber,
        byModel,
        byUser,
        byConversation,
      }),
    );
  });

  scope.get<{ Params: { id: string } }>('/costs/conversations/:id', async (request, reply) => {
    const { id } = request.params;
    const conversation = UUID.test(id) ? await getConversation(deps.db, id) : null;
    if (!conversation) return sendPage(reply, html`No such conversation`, 404);
    return sendPage(
      reply,
      conversationCostPage({
        session: sessionOf(request),
        simulatorEnabled: options.simulatorEnabled,
        conversationId: id,
        userAddress: conversation.userAddress,
        cost: await conversationCost(deps.db, id),
      }),
    );
  });
}
