import { describe, expect, it } from 'vitest';
import { naturalBatcher } from '../../src/infra/natural-batcher.js';

const never = new Promise<never>(() => undefined);

describe('naturalBatcher', () => {
  it('sends the first item alone and the ones that arrive meanwhile together, each with its own outcome', async () => {
    const calls: number[][] = [];
    const batcher = naturalBatcher<number, string>({
      maxLanes: 1,
      slowMs: 1000,
      maxBatch: 3,
      maxWaitMs: 5000,
      timeoutError: () => new Error('timed out'),
      async run(items) {
        calls.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items.map((n) => (n === 4 ? new Error('four refused') : `#${n}`));
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n)));
    expect(calls).toEqual([[1], [2, 3, 4], [5, 6]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([
      '#1',
      '#2',
      '#3',
      'Error: four refused',
      '#5',
      '#6',
    ]);
  });

  it('opens another lane only when every running call is slow, and never more than maxLanes', async () => {
    let running = 0;
    let most = 0;
    const batcher = naturalBatcher<number, number>({
      maxLanes: 2,
      slowMs: 20,
      maxBatch: 100,
      maxWaitMs: 5000,
      timeoutError: () => new Error('timed out'),
      async run(items) {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 60));
        running -= 1;
        return items;
      },
    });
    const first = batcher.submit(1);
    const second = batcher.submit(2);
    const third = batcher.submit(3);
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 3]);
    expect(most).toBe(2);
  });

  it('fails an item that waited maxWaitMs behind calls that never answer, and keeps failing the later ones', async () => {
    const batcher = naturalBatcher<number, number>({
      maxLanes: 2,
      slowMs: 10,
      maxBatch: 100,
      maxWaitMs: 80,
      timeoutError: () => new Error('nobody answered'),
      run: () => never,
    });
    void batcher.submit(1).catch(() => undefined); // lane 1, stuck
    await new Promise((resolve) => setTimeout(resolve, 20));
    void batcher.submit(2).catch(() => undefined); // lane 2 (lane 1 is slow), stuck
    const started = performance.now();
    const waiting = [batcher.submit(3), batcher.submit(4)];
    await expect(waiting[0]).rejects.toThrow('nobody answered');
    await expect(waiting[1]).rejects.toThrow('nobody answered');
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    await expect(batcher.submit(5)).rejects.toThrow('nobody answered');
  });
});
