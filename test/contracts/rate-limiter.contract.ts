/** What every RateLimiter must do, written once and run against each adapter. */
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/ports.js';
import { disposedAfterEach } from './support.js';

export interface RateLimiterUnderTest {
  limiter: RateLimiter;
  /** Let `ms` pass for the adapter: a real wait for Redis, a step of the injected clock in memory. */
  elapse: (ms: number) => Promise<void>;
  dispose: () => Promise<void>;
}

export function rateLimiterContract(name: string, makeLimiter: () => Promise<RateLimiterUnderTest>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const make = disposedAfterEach(makeLimiter);

    it('allows `limit` hits in the window, then denies', async () => {
      const { limiter } = await make();
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.hit('user:1', 3, 60));
      expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      const denied = decisions[3]!;
      expect(denied.resetMs).toBeGreaterThan(0);
      expect(denied.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('allows again once the window has passed', async () => {
      const { limiter, elapse } = await make();
      await limiter.hit('user:1', 2, 1);
      await limiter.hit('user:1', 2, 1);
      expect((await limiter.hit('user:1', 2, 1)).allowed).toBe(false);
      await elapse(1100);
      expect(await limiter.hit('user:1', 2, 1)).toMatchObject({ allowed: true, remaining: 1 });
    });

    it('slides: a hit leaves the window on its own, not with the others', async () => {
      const { limiter, elapse } = await make();
      expect((await limiter.hit('user:1', 2, 1)).allowed).toBe(true);
      await elapse(600);
      expect((await limiter.hit('user:1', 2, 1)).allowed).toBe(true);
      await elapse(600);
      // The first hit has left the window; the second has not.
      expect((await limiter.hit('user:1', 2, 1)).allowed).toBe(true);
      expect((await limiter.hit('user:1', 2, 1)).allowed).toBe(false);
    });

    it('reset forgets the key’s hits, and only that key’s', async () => {
      const { limiter } = await make();
      await limiter.hit('user:1', 1, 60);
      await limiter.hit('user:2', 1, 60);
      expect((await limiter.hit('user:1', 1, 60)).allowed).toBe(false);
      await limiter.reset('user:1');
      expect(await limiter.hit('user:1', 1, 60)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await limiter.hit('user:2', 1, 60)).allowed).toBe(false);
    });

    it('does not count denied hits', async () => {
      const { limiter, elapse } = await make();
      expect((await limiter.hit('user:1', 1, 1)).allowed).toBe(true);
      await elapse(500);
      expect((await limiter.hit('user:1', 1, 1)).allowed).toBe(false);
      await elapse(600);
      expect((await limiter.hit('user:1', 1, 1)).allowed).toBe(true);
    });

    it('counts each key on its own', async () => {
      const { limiter } = await make();
      await limiter.hit('user:1', 1, 60);
      expect((await limiter.hit('user:1', 1, 60)).allowed).toBe(false);
      expect((await limiter.hit('user:2', 1, 60)).allowed).toBe(true);
    });

    it('never lets more than `limit` of many concurrent hits through', async () => {
      const { limiter } = await make();
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.hit('user:1', 10, 60)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    });
  });
}
