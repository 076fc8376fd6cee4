/**
 * The inbound policies in the order the gate asks them. The user's consent comes first, in every mode: STOP must
 * win over everything (a handoff keyword too), and an opted-out user's messages are not answered. Then the handoff
 * keyword: a user asking for a person
 * gets one whatever else is true of the message (too long, over the rate limit: no model is asked, so neither
 * matters), and a retried job in `human` mode can finish a handoff its first run began. Then the mode: in a
 * human's or a paused conversation the bot sends nothing, not even a notice. A reaction is never answered. The
 * rate limit comes next, so it counts only messages the bot would otherwise answer, and the daily spend caps last.
 */
import type { Logger } from '../../log.js';
import type { Locks, RateLimiter } from '../../ports.js';
import type { PipelineDeps } from '../deps.js';
import { spendCapPolicy } from '../spend-cap.js';
import type { ConsentSettings } from '../../domain/opt-out.js';
import type { Policy } from '../gate.js';
import { consentPolicy } from './consent.js';
import { conversationModePolicy } from './conversation-mode.js';
import { handoffKeywordPolicy } from './handoff-keyword.js';
import { rateLimitPolicy } from './rate-limit.js';
import { reactionPolicy } from './reaction.js';
import { tooLongPolicy } from './too-long.js';

export interface PolicySettings {
  maxMessageLength: number;
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
  handoffKeywords: readonly string[];
  consent: ConsentSettings;
}

export function inboundPolicies(
  deps: { limiter: RateLimiter; locks: Locks; log: Logger } & Partial<
    Pick<PipelineDeps, 'db' | 'pricing' | 'alertSpend'>
  >,
  settings: PolicySettings,
): Policy[] {
  const { db, pricing } = deps;
  return [
    consentPolicy(settings.consent),
    handoffKeywordPolicy(settings.handoffKeywords),
    conversationModePolicy,
    reactionPolicy,
    tooLongPolicy(settings.maxMessageLength),
    rateLimitPolicy(deps, settings),
    // Last: only a message that would otherwise reach the model meets the spend caps (and their notice).
    ...(db && pricing ? [spendCapPolicy({ ...deps, db, pricing })] : []),
  ];
}
