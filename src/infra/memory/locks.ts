/**
 * In-process Locks with the Redis adapter's semantics: a lease belongs to the token that took it, expires by the
 * injected clock, and can be extended or released only by its holder; claimOnce is a key that exists until expiry.
 */
import { randomUUID } from 'node:crypto';
import type { Lease, Locks } from '../../ports.js';
import { systemClock, type Clock } from './clock.js';

interface Holder {
  token: string;
  expiresAt: number;
}

export function createMemoryLocks(options: { clock?: Clock } = {}): Locks {
  const clock = options.clock ?? systemClock;
  const leases = new Map<string, Holder>();
  const claims = new Map<string, number>();
  let operations = 0;

  function holder(key: string): Holder | undefined {
    const current = leases.get(key);
    return current && current.expiresAt > clock.now() ? current : undefined;
  }

  // Expired entries are otherwise only replaced when their key comes back; drop them now and then.
  function sweep(): void {
    if (++operations % 1000 !== 0) return;
    const now = clock.now();
    for (const [key, held] of leases) if (held.expiresAt <= now) leases.delete(key);
    for (const [key, expiresAt] of claims) if (expiresAt <= now) claims.delete(key);
  }

  function lease(key: string, token: string): Lease {
    return {
      extend(ttlMs) {
        const current = holder(key);
        if (current?.token !== token) return Promise.resolve(false);
        current.expiresAt = clock.now() + ttlMs;
        return Promise.resolve(true);
      },
      release() {
        if (holder(key)?.token === token) leases.delete(key);
        return Promise.resolve();
      },
    };
  }

  return {
    acquire(key, ttlMs) {
      sweep();
      if (holder(key)) return Promise.resolve(null);
      const token = randomUUID();
      leases.set(key, { token, expiresAt: clock.now() + ttlMs });
      return Promise.resolve(lease(key, token));
    },
    claimOnce(key, ttlMs) {
      sweep();
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && expiresAt > clock.now()) return Promise.resolve(false);
      claims.set(key, clock.now() + ttlMs);
      return Promise.resolve(true);
    },
    forgetClaim(key) {
      claims.delete(key);
      return Promise.resolve();
    },
  };
}
