import { describe, expect, it } from 'vitest';
import { needlesOf } from '../../src/db/user-erasure.js';
import { sessionSecretFrom } from '../../src/admin/settings.js';
import { loadConfig, validate } from '../../src/config/load.js';
import { knownPseudonymsFrom, pseudonymizer, pseudonymizerFrom } from '../../src/security/pseudonym.js';

describe('pseudonymizer', () => {
  const secret = 'a server secret of at least thirty-two characters';

  it('maps one address to one pseudonym, another address to another, and hides the number', () => {
    const pseudonymize = pseudonymizer(secret);
    const first = pseudonymize('whatsapp:+15551234567');
    expect(first).toMatch(/^anon_[0-9a-f]{32}$/);
    expect(pseudonymize('whatsapp:+15551234567')).toBe(first);
    expect(pseudonymize('whatsapp:+15551234568')).not.toBe(first);
    expect(first).not.toContain('15551234567');
  });

  it('depends on the secret: without it a number cannot be tested against a pseudonym', () => {
    expect(pseudonymizer(secret)('whatsapp:+15551234567')).not.toBe(
      pseudonymizer(`${secret}!`)('whatsapp:+15551234567'),
    );
  });
});

describe('needlesOf (what a log row must hold as a whole JSON value to be about the person)', () => {
  it.each([
    ['whatsapp:+15551234567', ['"whatsapp:+15551234567"', '"15551234567"', '"+15551234567"']],
    ['whatsapp:CO.abc_123', ['"whatsapp:CO.abc_123"']],
    ['sim-user "quoted"', ['"sim-user \\"quoted\\""']],
  ])('%s', (address, needles) => {
    expect(needlesOf([address])).toEqual(needles);
  });
});

describe('the pseudonym key (PSEUDONYM_KEY, else FIELD_ENCRYPTION_KEY)', () => {
  const address = 'whatsapp:+15551234567';
  const fieldKey = 'a'.repeat(64);
  const pseudonymKey = 'b'.repeat(64);
  const pseudonymOf = (env: Record<string, string>) => pseudonymizerFrom(loadConfig(env))(address);

  it('PSEUDONYM_KEY: unchanged when the other secrets rotate', () => {
    const before = pseudonymOf({ PSEUDONYM_KEY: pseudonymKey, ADMIN_SESSION_SECRET: 'x'.repeat(40) });
    expect(
      pseudonymOf({
        PSEUDONYM_KEY: pseudonymKey,
        ADMIN_SESSION_SECRET: 'y'.repeat(40),
        FIELD_ENCRYPTION_KEY: fieldKey,
      }),
    ).toBe(before);
  });

  it('FIELD_ENCRYPTION_KEY alone: unchanged when ADMIN_SESSION_SECRET or the database URL change', () => {
    const before = pseudonymOf({ FIELD_ENCRYPTION_KEY: fieldKey });
    expect(pseudonymOf({ FIELD_ENCRYPTION_KEY: fieldKey, ADMIN_SESSION_SECRET: 'y'.repeat(40) })).toBe(
      before,
    );
    expect(pseudonymOf({ FIELD_ENCRYPTION_KEY: fieldKey, DATABASE_URL: 'postgresql://u:new@db/x' })).toBe(
      before,
    );
    // The first release's pseudonym for such a deployment (no ADMIN_SESSION_SECRET): the same, nothing to migrate.
    expect(before).toBe(
      pseudonymizer(sessionSecretFrom(loadConfig({ FIELD_ENCRYPTION_KEY: fieldKey })))(address),
    );
  });

  it('PSEUDONYM_KEY set to the FIELD_ENCRYPTION_KEY being rotated away keeps every pseudonym', () => {
    const before = pseudonymOf({ FIELD_ENCRYPTION_KEY: fieldKey });
    const rotated = { FIELD_ENCRYPTION_KEY: 'c'.repeat(64), FIELD_ENCRYPTION_KEY_PREVIOUS: fieldKey };
    expect(pseudonymOf({ ...rotated, PSEUDONYM_KEY: fieldKey })).toBe(before);
  });

  it("an export still matches pseudonyms written under the first release's key (ADMIN_SESSION_SECRET)", () => {
    const env = { PSEUDONYM_KEY: pseudonymKey, ADMIN_SESSION_SECRET: 'x'.repeat(40) };
    const earlier = pseudonymizer(sessionSecretFrom(loadConfig(env)))(address);
    const known = knownPseudonymsFrom(loadConfig(env))(address);
    expect(known).toEqual([pseudonymOf(env), earlier]);
    expect(knownPseudonymsFrom(loadConfig({ FIELD_ENCRYPTION_KEY: fieldKey }))(address)).toEqual([
      pseudonymOf({ FIELD_ENCRYPTION_KEY: fieldKey }),
    ]);
  });

  it('PSEUDONYM_KEY must be a 32-byte key, and the problem names it without its value', () => {
    const result = validate({ PSEUDONYM_KEY: 'too-short-secret' });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.join('\n')).toContain('PSEUDONYM_KEY');
    expect(problems.join('\n')).toContain('32 bytes');
    expect(problems.join('\n')).not.toContain('too-short-secret');
  });
});
