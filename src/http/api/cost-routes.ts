/**
 * Cost figures over the API (README "Cost and spend caps"): the spend per day, one day's spend by user, business
 * number, model or conversation, and one conversation's cost per answer. Money is US dollars (a JSON number,
 * exact to the micro-dollar the database counts in); `unpricedCalls` counts calls of models without a price,
 * whose cost is unknown rather than zero. Readable by every role, like the conversations.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  conversationCost,
  spendByConversation,
  spendByDay,
  spendByKey,
  spendOf,
  type SpendFigure,
} from '../../db/spend.js';
import { dayIn, microsToUsd } from '../../domain/prices.js';
import { showConversation } from '../../inbox/conversations.js';
import { requirePermission } from '../../inbox/permission.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { actorOf } from './auth.js';
import { conversationIdOf, parseQuery } from './params.js';
import { ApiProblem } from './problem.js';
import type { ApiDeps } from './routes.js';

export const COST_BREAKDOWNS = ['user', 'number', 'model', 'conversation'] as const;
const MAX_DAYS = 366;
const MAX_ROWS = 500;

const daysQuery = z.object({
  days: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_DAYS, `must be from 1 to ${MAX_DAYS}`)
    .optional(),
});

const breakdownQuery = z.object({
  by: z.enum(COST_BREAKDOWNS).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= 1, 'must be at least 1')
    .optional(),
});

function figure(f: SpendFigure) {
  return { costUsd: microsToUsd(f.costMicros), calls: f.calls, unpricedCalls: f.unpricedCalls };
}

function dayOf(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value)))
    throw new ApiProblem(404, 'not_found', 'a day is YYYY-MM-DD');
  return value;
}

export function costRoutes(scope: FastifyInstance, deps: ApiDeps & Pick<PipelineDeps, 'pricing'>): void {
  const timezone = deps.pricing?.timezone ?? 'UTC';
  const today = () => dayIn(new Date(), timezone);

  scope.get('/costs', async (request) => {
    requirePermission(actorOf(request), 'conversations.read');
    const { days = 30 } = parseQuery(daysQuery, request);
    const since = new Date(Date.now() - (days - 1) * 86_400_000);
    const rows = await spendByDay(deps.db, dayIn(since, timezone));
    const todays = await spendOf(deps.db, today(), '');
    return {
      timezone,
      today: today(),
      spentTodayUsd: microsToUsd(todays.globalMicros),
      caps: {
        userDailyUsd: microsToUsd(deps.pricing?.userDailyCapMicros ?? 0),
        dailyUsd: microsToUsd(deps.pricing?.dailyCapMicros ?? 0),
        cheaperModel: deps.pricing?.cheaperModel?.model ?? null,
      },
      days: rows.map((row) => ({ day: row.day, ...figure(row) })),
    };
  });

  scope.get('/costs/:day', async (request) => {
    requirePermission(actorOf(request), 'conversations.read');
    const day = dayOf((request.params as { day?: unknown }).day);
    const { by = 'user', limit = 50 } = parseQuery(breakdownQuery, request);
    const max = Math.min(limit, MAX_ROWS);
    if (by === 'conversation') {
      const rows = await spendByConversation(deps.db, day, max);
      return {
        day,
        by,
        rows: rows.map((row) => ({
          conversationId: row.conversationId,
          channel: row.channel,
          user: row.userAddress,
          number: row.businessAddress,
          ...figure(row),
        })),
      };
    }
    const rows = await spendByKey(deps.db, day, by, max);
    return { day, by, rows: rows.map((row) => ({ key: row.key, ...figure(row) })) };
  });

  scope.get('/conversations/:id/cost', async (request) => {
    const conversationId = conversationIdOf(request);
    // The same permission and 404 as reading the conversation.
    await showConversation(deps, { actor: actorOf(request), conversationId });
    const cost = await conversationCost(deps.db, conversationId);
    return {
      conversationId,
      ...figure(cost),
      messages: cost.messages.map((m) => ({ messageId: m.messageId, ...figure(m) })),
    };
  });
}
