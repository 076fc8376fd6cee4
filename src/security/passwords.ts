/**
 * Password hashing for admin accounts with scrypt (node:crypto), a random salt per password. The stored form
 * names its parameters, `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64), so they can be raised later without
 * breaking existing accounts.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { codePointLength } from '../domain/sanitize.js';

/** N = 2^15, r = 8, p = 1: 32 MiB and a few tens of milliseconds per hash. */
const COST = { N: 32_768, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, length: number) {
  // scrypt needs 128·N·r bytes; the default maxmem (32 MiB) is exactly that, so leave headroom.
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/** Why this password is not acceptable, or null. */
export function passwordProblem(password: string): string | null {
  if (codePointLength(password) < MIN_PASSWORD_LENGTH)
    return `the password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH)
    return `the password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() === '') return 'the password must not be only spaces';
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, COST, HASH_BYTES);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password or a stored value we cannot read. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every((v) => Number.isSafeInteger(v) && v > 0)) return false;
  const expected = Buffer.from(hash, 'base64');
  if (expected.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  const actual = await derive(password, Buffer.from(salt, 'base64'), cost, expected.length);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spend the time of one verification without an account, so a login form answers as slowly for an unknown
 * username as for a wrong password (no username probing by timing).
 */
export async function burnVerificationTime(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(12).toString('base64'));
  await verifyPassword(await dummy, password);
  return false;
}
