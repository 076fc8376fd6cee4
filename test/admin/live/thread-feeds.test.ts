/**
 * The live thread's poller: one load per conversation per interval whatever the number of listeners, each
 * listener told only what changed since it last heard, and nothing left running after the last one leaves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { threadFeeds, type LiveMessage, type ThreadFeeds } from '../../../src/admin/live/thread-feeds.js';
import { createLogger } from '../../../src/log.js';
import { eventually } from '../../helpers/app.js';

const log = createLogger({ level: 'silent' });
let feeds: ThreadFeeds | undefined;
afterEach(() => feeds?.close());

function source() {
  const windows = new Map<string, LiveMessage[]>();
  const loads: string[] = [];
  return {
    windows,
    loads,
    load: (id: string) => {
      loads.push(id);
      return Promise.resolve(windows.get(id) ?? []);
    },
  };
}

const message = (id: string, version = 'v1'): LiveMessage => ({
  id,
  version,
  html: `<li>${id} ${version}</li>`,
});

describe('threadFeeds', () => {
  it('gives a new listener the whole window, then only new and changed messages', async () => {
    const s = source();
    s.windows.set('c1', [message('m1'), message('m2')]);
    feeds = threadFeeds({ load: s.load, intervalMs: 20, log });
    const heard: string[][] = [];
    const stop = feeds.subscribe('c1', (changed) => heard.push(changed.map((m) => `${m.id}@${m.version}`)));
    await eventually('the first window', () => Promise.resolve(heard[0]));
    expect(heard[0]).toEqual(['m1@v1', 'm2@v1']);
    s.windows.set('c1', [message('m1'), message('m2', 'v2'), message('m3')]);
    await eventually('the change', () => Promise.resolve(heard[1]));
    expect(heard[1]).toEqual(['m2@v2', 'm3@v1']);
    const polls = s.loads.length;
    await eventually('more polls', () => Promise.resolve(s.loads.length > polls + 2 ? true : undefined));
    expect(heard).toHaveLength(2);
    stop();
  });

  it('shares one poll between the listeners of a conversation and stops polling when they leave', async () => {
    const s = source();
    s.windows.set('c1', [message('m1')]);
    feeds = threadFeeds({ load: s.load, intervalMs: 30, log });
    const a: LiveMessage[][] = [];
    const b: LiveMessage[][] = [];
    const stopA = feeds.subscribe('c1', (changed) => a.push(changed));
    const stopB = feeds.subscribe('c1', (changed) => b.push(changed));
    await eventually('both heard', () => Promise.resolve(a[0] && b[0]));
    await new Promise((resolve) => setTimeout(resolve, 150));
    // About one load per interval, not one per listener per interval.
    expect(s.loads.length).toBeLessThanOrEqual(7);
    stopA();
    stopB();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = s.loads.length;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(s.loads.length).toBe(after);
  });

  it('keeps polling after a failed load', async () => {
    let fail = true;
    const heard: LiveMessage[][] = [];
    feeds = threadFeeds({
      load: () => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error('database blip'));
        }
        return Promise.resolve([message('m1')]);
      },
      intervalMs: 20,
      log,
    });
    feeds.subscribe('c1', (changed) => heard.push(changed));
    await eventually('a window after the failure', () => Promise.resolve(heard[0]));
    expect(heard[0]?.map((m) => m.id)).toEqual(['m1']);
  });
});
