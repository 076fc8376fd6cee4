/**
 * The pipeline's settings as the tests run it: no burst wait, a generous rate limit, no window templates, the
 * default consent words. Each test file overrides what it is about (its handoff keywords, a window template).
 */
import { CONSENT_DEFAULTS } from '../../src/domain/opt-out.js';
import type { PipelineSettings } from '../../src/pipeline/deps.js';

export function pipelineSettings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
  return {
    maxHistory: 10,
    sessionTimeoutMs: 1_800_000,
    burstWindowMs: 0,
    burstMaxWaitMs: 0,
    rateLimitMax: 100,
    rateLimitWindowSeconds: 60,
    maxMessageLength: 4096,
    conversationLockTtlMs: 30_000,
    strandedAfterMs: 60_000,
    alertsConfigured: false,
    handoffKeywords: [],
    handoffMessage: 'A person will answer.',
    handoffIdleMs: 0,
    statusCallbackUrl: undefined,
    windowTemplates: {},
    consent: CONSENT_DEFAULTS,
    mediaMaxBytes: 16 * 1024 * 1024,
    ...overrides,
  };
}
