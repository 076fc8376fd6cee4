/**
 * The context stage: the session's turns from the hot cache, or rebuilt from PostgreSQL on a miss (and cached
 * again). A conversation without any reply yet has none, and costs no lookup.
 */
import type { ConversationWork } from '../db/conversations.js';
import { sessionTurns, type PendingInbound } from '../db/messages.js';
import { quotedTexts } from '../db/quoted.js';
import { storedContent } from '../domain/content-payload.js';
import { renderForModel } from '../domain/render-content.js';
import type { Turn } from '../domain/types.js';
import type { PipelineDeps } from './deps.js';

type Deps = Pick<PipelineDeps, 'db' | 'context' | 'settings' | 'log'>;

export async function loadContext(deps: Deps, conversation: ConversationWork): Promise<Turn[]> {
  if (!conversation.hasReplies) return [];
  const cached = await deps.context.get(conversation.id).catch(() => null);
  if (cached) return cached.slice(-deps.settings.maxHistory);
  const turns = await sessionTurns(deps.db, conversation.id, {
    maxTurns: deps.settings.maxHistory,
    sessionTimeoutMs: deps.settings.sessionTimeoutMs,
    now: new Date(),
    after: conversation.contextResetAt,
    handoffAt: conversation.handoffAt,
  });
  if (turns.length > 0) await deps.context.append(conversation.id, turns).catch(() => undefined);
  return turns;
}

/** Add the answered turns; a cache that fails is dropped, so the next job rebuilds it from the database. */
export async function rememberTurns(deps: Deps, conversationId: string, turns: Turn[]): Promise<void> {
  await deps.context.append(conversationId, turns).catch(async (error: unknown) => {
    deps.log.warn({ err: error }, 'context cache update failed; it will be rebuilt from the database');
    await forgetContext(deps, conversationId);
  });
}

export async function forgetContext(
  deps: Pick<Deps, 'context' | 'log'>,
  conversationId: string,
): Promise<void> {
  await deps.context.clear(conversationId).catch((error: unknown) => {
    deps.log.warn({ err: error, conversationId }, 'could not clear the context cache');
  });
}

/**
 * The batch as the model reads it: a quoted reply carries the text it quotes (found by the provider id the channel
 * gave, among what we sent and what the user sent in this conversation). One query, only when a message quotes.
 */
export async function withQuotedText(
  deps: Pick<Deps, 'db'>,
  conversationId: string,
  batch: PendingInbound[],
): Promise<PendingInbound[]> {
  const stored = batch.map((m) => storedContent(m.payload, m.content));
  const ids = [
    ...new Set(stored.flatMap((s) => (s.context.quote ? [s.context.quote.providerMessageId] : []))),
  ];
  if (ids.length === 0) return batch;
  const texts = await quotedTexts(deps.db, conversationId, ids);
  return batch.map((message, i) => {
    const { content, context } = stored[i] as (typeof stored)[number];
    const quotedText = context.quote ? texts.get(context.quote.providerMessageId) : undefined;
    return quotedText === undefined
      ? message
      : { ...message, content: renderForModel(content, context, { quotedText }) };
  });
}
