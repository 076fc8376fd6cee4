import { describe, expect, it } from 'vitest';
import { needlesOf } from '../../src/db/user-erasure.js';
import { pseudonymizer } from '../../src/security/pseudonym.js';

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
