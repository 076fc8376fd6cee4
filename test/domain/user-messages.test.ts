import { describe, expect, it } from 'vitest';
import type { ErrorKind } from '../../src/domain/errors.js';
import { friendlyAiFailure } from '../../src/domain/user-messages.js';

const AI_KINDS: ErrorKind[] = [
  'ai_timeout',
  'ai_rate_limited',
  'ai_unavailable',
  'ai_auth',
  'ai_bad_request',
];

describe('friendlyAiFailure', () => {
  it.each(['ai_auth', 'ai_bad_request', 'internal'] as const)(
    'says the team was notified for %s only when an alert channel is configured',
    (kind) => {
      expect(friendlyAiFailure(kind, true)).toContain('The team has been notified');
      const withoutAlerts = friendlyAiFailure(kind, false);
      expect(withoutAlerts).not.toMatch(/notif/i);
      expect(withoutAlerts).toBe(
        'Sorry, something went wrong on my side and I could not answer. Please try again later.',
      );
    },
  );

  it('never claims a notification nobody received, whatever the kind', () => {
    for (const kind of AI_KINDS) expect(friendlyAiFailure(kind, false)).not.toMatch(/notif/i);
  });

  it('keeps the transient wordings the same with or without alert channels', () => {
    for (const kind of ['ai_timeout', 'ai_rate_limited', 'ai_unavailable'] as const)
      expect(friendlyAiFailure(kind, true)).toBe(friendlyAiFailure(kind, false));
  });
});
