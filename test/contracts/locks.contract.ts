/** What every Locks must do, written once and run against each adapter. */
import { describe, expect, it } from 'vitest';
import type { Locks } from '../../src/ports.js';
import { disposedAfterEach } from './support.js';

export interface LocksUnderTest {
  locks: Locks;
  /** Let `ms` pass for the adapter: a real wait for Redis, a step of the injected clock in memory. */
  elapse: (ms: number) => Promise<void>;
  dispose: () => Promise<void>;
}

export function locksContract(name: string, makeLocks: () => Promise<LocksUnderTest>): void {
  describe(`Locks contract: ${name}`, () => {
    const make = disposedAfterEach(makeLocks);

    it('gives a key to one holder at a time', async () => {
      const { locks } = await make();
      const first = await locks.acquire('conversation:1', 5000);
      expect(first).not.toBeNull();
      expect(await locks.acquire('conversation:1', 5000)).toBeNull();
      expect(await locks.acquire('conversation:2', 5000)).not.toBeNull();
    });

    it('frees the key on release', async () => {
      const { locks } = await make();
      const lease = await locks.acquire('k', 5000);
      await lease!.release();
      expect(await locks.acquire('k', 5000)).not.toBeNull();
    });

    it('frees the key when the lease expires', async () => {
      const { locks, elapse } = await make();
      expect(await locks.acquire('k', 200)).not.toBeNull();
      await elapse(300);
      expect(await locks.acquire('k', 5000)).not.toBeNull();
    });

    it('extend keeps the key past its first expiry', async () => {
      const { locks, elapse } = await make();
      const lease = await locks.acquire('k', 400);
      await elapse(200);
      expect(await lease!.extend(2000)).toBe(true);
      await elapse(400);
      expect(await locks.acquire('k', 5000)).toBeNull();
    });

    it('an expired holder can neither release nor extend the next holder’s lease', async () => {
      const { locks, elapse } = await make();
      const stale = await locks.acquire('k', 200);
      await elapse(300);
      const current = await locks.acquire('k', 5000);
      expect(current).not.toBeNull();
      await stale!.release();
      expect(await stale!.extend(5000)).toBe(false);
      expect(await locks.acquire('k', 5000)).toBeNull();
      await current!.release();
      expect(await locks.acquire('k', 5000)).not.toBeNull();
    });

    it('claimOnce is true the first time, false within the TTL, true again after it', async () => {
      const { locks, elapse } = await make();
      expect(await locks.claimOnce('notice:1', 200)).toBe(true);
      expect(await locks.claimOnce('notice:1', 200)).toBe(false);
      expect(await locks.claimOnce('notice:2', 200)).toBe(true);
      await elapse(300);
      expect(await locks.claimOnce('notice:1', 200)).toBe(true);
    });

    it('forgetClaim makes a key claimable again at once, and leaves the others', async () => {
      const { locks } = await make();
      expect(await locks.claimOnce('notice:a', 60_000)).toBe(true);
      expect(await locks.claimOnce('notice:b', 60_000)).toBe(true);
      await locks.forgetClaim('notice:a');
      await locks.forgetClaim('notice:never-claimed');
      expect(await locks.claimOnce('notice:a', 60_000)).toBe(true);
      expect(await locks.claimOnce('notice:b', 60_000)).toBe(false);
    });
  });
}
