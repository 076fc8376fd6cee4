/** What every ContextCache must do, written once and run against each adapter. */
import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/domain/types.js';
import type { ContextCache } from '../../src/ports.js';
import { disposedAfterEach } from './support.js';

export interface ContextCacheUnderTest {
  cache: ContextCache;
  /** Let `ms` pass for the adapter: a real wait for Redis, a step of the injected clock in memory. */
  elapse: (ms: number) => Promise<void>;
  dispose: () => Promise<void>;
}

export type MakeContextCache = (options: {
  maxTurns: number;
  ttlSeconds: number;
}) => Promise<ContextCacheUnderTest>;

function turn(n: number, at = 1_700_000_000_000 + n * 1000): Turn {
  return { id: `t-${n}`, role: n % 2 === 0 ? 'assistant' : 'user', content: `message ${n}`, at };
}

export function contextCacheContract(name: string, makeCache: MakeContextCache): void {
  describe(`ContextCache contract: ${name}`, () => {
    const make = disposedAfterEach(makeCache);

    it('answers null for a conversation it never cached', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      expect(await cache.get('never')).toBeNull();
    });

    it('returns appended turns oldest first, whatever order they came in', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      await cache.append('c-1', [turn(3), turn(1)]);
      await cache.append('c-1', [turn(2)]);
      expect(await cache.get('c-1')).toEqual([turn(1), turn(2), turn(3)]);
    });

    it('keeps only the newest maxTurns', async () => {
      const { cache } = await make({ maxTurns: 3, ttlSeconds: 60 });
      await cache.append('c-1', [turn(1), turn(2)]);
      await cache.append('c-1', [turn(3), turn(4), turn(5)]);
      expect(await cache.get('c-1')).toEqual([turn(3), turn(4), turn(5)]);
    });

    it('takes thousands of turns in one append (a long backlog), keeping the newest maxTurns in order', async () => {
      const { cache } = await make({ maxTurns: 4, ttlSeconds: 60 });
      const many = Array.from({ length: 5000 }, (_, i) => turn(i + 1));
      // Out of order, with two turns sharing the newest millisecond.
      await cache.append('c-1', [...many.reverse(), turn(6000, 1_700_000_000_000 + 5000 * 1000)]);
      expect((await cache.get('c-1'))?.map((t) => t.id)).toEqual(['t-4998', 't-4999', 't-5000', 't-6000']);
    });

    it('re-appending turns it already has changes nothing', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      await cache.append('c-1', [turn(1), turn(2)]);
      await cache.append('c-1', [turn(2), turn(3)]);
      await cache.append('c-1', [turn(1), turn(2), turn(3)]);
      expect(await cache.get('c-1')).toEqual([turn(1), turn(2), turn(3)]);
    });

    it('orders turns of the same millisecond by id', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      await cache.append('c-1', [turn(2, 5000), turn(1, 5000)]);
      expect((await cache.get('c-1'))?.map((t) => t.id)).toEqual(['t-1', 't-2']);
    });

    it('hands out copies, as a serialising store would', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      const appended = [turn(1)];
      await cache.append('c-1', appended);
      appended[0]!.content = 'changed by the caller after append';
      const first = await cache.get('c-1');
      first![0]!.content = 'changed by the caller after get';
      expect(await cache.get('c-1')).toEqual([turn(1)]);
    });

    it('forgets a conversation ttlSeconds after its last append', async () => {
      const { cache, elapse } = await make({ maxTurns: 5, ttlSeconds: 1 });
      await cache.append('c-1', [turn(1)]);
      await elapse(1200);
      expect(await cache.get('c-1')).toBeNull();
    });

    it('an append pushes the expiry out again', async () => {
      const { cache, elapse } = await make({ maxTurns: 5, ttlSeconds: 1 });
      await cache.append('c-1', [turn(1)]);
      await elapse(600);
      await cache.append('c-1', [turn(2)]);
      await elapse(600);
      expect(await cache.get('c-1')).toEqual([turn(1), turn(2)]);
      await elapse(600);
      expect(await cache.get('c-1')).toBeNull();
    });

    it('clear forgets one conversation and leaves the others', async () => {
      const { cache } = await make({ maxTurns: 5, ttlSeconds: 60 });
      await cache.append('c-1', [turn(1)]);
      await cache.append('c-2', [turn(2)]);
      await cache.clear('c-1');
      expect(await cache.get('c-1')).toBeNull();
      expect(await cache.get('c-2')).toEqual([turn(2)]);
    });
  });
}
