/**
 * In-process ContextCache with the Redis adapter's behaviour: turns kept by id (a re-append replaces), ordered by
 * time then id (as the sorted set orders equal scores by member), trimmed to the newest maxTurns, expiring
 * ttlSeconds after the last append by the injected clock.
 */
import type { Turn } from '../../domain/types.js';
import type { ContextCache } from '../../ports.js';
import { systemClock, type Clock } from './clock.js';
import { jsonClone } from './clone.js';

interface Entry {
  turns: Map<string, Turn>;
  expiresAt: number;
}

export function createMemoryContextCache(options: {
  maxTurns: number;
  ttlSeconds: number;
  clock?: Clock;
}): ContextCache {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();
  let appends = 0;

  function live(conversationId: string): Entry | undefined {
    const entry = entries.get(conversationId);
    if (entry && entry.expiresAt <= clock.now()) {
      entries.delete(conversationId);
      return undefined;
    }
    return entry;
  }

  function sweep(): void {
    const now = clock.now();
    for (const [id, entry] of entries) if (entry.expiresAt <= now) entries.delete(id);
  }

  return {
    get(conversationId) {
      const entry = live(conversationId);
      return Promise.resolve(entry && entry.turns.size > 0 ? jsonClone(ordered(entry.turns)) : null);
    },
    append(conversationId, turns) {
      // Expired conversations are dropped on the way, so an idle process does not keep them forever.
      if (++appends % 1000 === 0) sweep();
      const entry = live(conversationId) ?? { turns: new Map<string, Turn>(), expiresAt: 0 };
      for (const turn of jsonClone(turns)) entry.turns.set(turn.id, turn);
      const kept = options.maxTurns > 0 ? ordered(entry.turns).slice(-options.maxTurns) : [];
      entry.turns = new Map(kept.map((turn) => [turn.id, turn]));
      entry.expiresAt = clock.now() + options.ttlSeconds * 1000;
      if (entry.turns.size > 0) entries.set(conversationId, entry);
      return Promise.resolve();
    },
    clear(conversationId) {
      entries.delete(conversationId);
      return Promise.resolve();
    },
  };
}

function ordered(turns: Map<string, Turn>): Turn[] {
  return [...turns.values()].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
