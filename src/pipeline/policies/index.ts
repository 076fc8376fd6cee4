/**
 * The inbound policies in the order the gate asks them. The mode comes first: in a human's or a paused
 * conversation the bot sends nothing, not even a notice. A reaction is never answered. The rate limit is last,
 * so it counts only messages the bot would otherwise answer.
 */
import type { Logger } from '../../log.js';
import type { Locks, RateLimiter } from '../../ports.js';
import type { Policy } from '../gate.js';
import { conversationModePolicy } from './conversation-mode.js';
import { rateLimitPolicy } from './rate-limit.js';
import { reactionPolicy } from './reaction.js';
import { tooLongPolicy } from './too-long.js';

export interface PolicySettings {
  maxMessageLength: number;
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
}

export function inboundPolicies(
  deps: { limiter: RateLimiter; locks: Locks; log: Logger },
  settings: PolicySettings,
): Policy[] {
  return [
    conversationModePolicy,
    reactionPolicy,
    tooLongPolicy(settings.maxMessageLength),
    rateLimitPolicy(deps, settings),
  ];
}
