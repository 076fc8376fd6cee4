import { describe, expect, it } from 'vitest';
import {
  burnVerificationTime,
  hashPassword,
  passwordProblem,
  verifyPassword,
} from '../../src/security/passwords.js';

describe('password hashing (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('correct');
    expect(await verifyPassword(stored, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse batterY')).toBe(false);
  });

  it('salts each hash, so equal passwords give different hashes', async () => {
    expect(await hashPassword('same password!')).not.toBe(await hashPassword('same password!'));
  });

  it('treats a stored value it cannot read as a mismatch rather than an error', async () => {
    for (const stored of ['', 'plain', 'scrypt$x$8$1$c2FsdA==$aGFzaA==', 'pbkdf2_sha256$1$salt$hash']) {
      expect(await verifyPassword(stored, 'anything at all')).toBe(false);
    }
  });

  it('spends a verification on unknown accounts and answers false', async () => {
    expect(await burnVerificationTime('whatever password')).toBe(false);
  });

  it('requires at least 10 characters, counted as a person counts them', () => {
    expect(passwordProblem('123456789')).toMatch(/at least 10/);
    expect(passwordProblem('1234567890')).toBeNull();
    expect(passwordProblem('🔑🔑🔑🔑🔑🔑🔑🔑🔑')).toMatch(/at least 10/);
    expect(passwordProblem('          ')).toMatch(/spaces/);
  });
});
