/**
 * The watch over Meta's status webhooks, on a real PostgreSQL: several sends old enough with no status callback at
 * all is reported (once per check, with its code and count); one status among them, too few sends, sends too young
 * or too old say nothing; a send starts a check in the background once the check interval has passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppError } from '../../src/domain/errors.js';
import {
  createMetaStatusWatch,
  META_STATUSES_MISSING,
  type MetaStatusWatchOptions,
} from '../../src/observability/meta-status-watch.js';
import { eventually } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { randomWamid } from '../helpers/meta.js';

const MINUTE = 60_000;
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

function watch(options: Partial<MetaStatusWatchOptions> = {}) {
  let clock = 1_000_000_000_000;
  const reported: Array<{ error: AppError; context: Record<string, unknown> }> = [];
  const watcher = createMetaStatusWatch({
    db: database.database.db,
    report: (error, context) => reported.push({ error, context }),
    now: () => clock,
    ...options,
  });
  const sendSome = (count: number) =>
    Array.from({ length: count }, () => randomWamid()).map((w) => (watcher.sent(w), w));
  return { watcher, reported, sendSome, advance: (ms: number) => (clock += ms) };
}

const statusFor = (wamid: string) =>
  database.database.db.execute(
    `insert into delivery_events (provider_message_id, status) values ('${wamid}', 'sent')`,
  );

describe('Meta status watch', () => {
  it('reports when none of several sends older than the quiet period has any status callback', async () => {
    const { watcher, reported, sendSome, advance } = watch();
    sendSome(3);
    advance(11 * MINUTE);
    expect(await watcher.check()).toBe(true);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toMatchObject({ kind: 'channel_unavailable', code: META_STATUSES_MISSING });
    expect(reported[0]?.error.message).toContain("webhook subscription (the 'messages' field)");
    expect(reported[0]?.context).toEqual({ unconfirmedSends: 3 });
  });

  it('says nothing when one of them got a status, when too few or too young, and forgets sends past the window', async () => {
    const one = watch();
    const [first] = one.sendSome(3);
    await statusFor(first ?? '');
    one.advance(11 * MINUTE);
    expect(await one.watcher.check()).toBe(false);

    const few = watch();
    few.sendSome(2);
    few.advance(11 * MINUTE);
    expect(await few.watcher.check()).toBe(false);

    const young = watch();
    young.sendSome(5);
    young.advance(9 * MINUTE);
    expect(await young.watcher.check()).toBe(false);
    young.advance(2 * MINUTE);
    expect(await young.watcher.check()).toBe(true);

    const old = watch();
    old.sendSome(5);
    old.advance(61 * MINUTE);
    expect(await old.watcher.check()).toBe(false);
    expect([...one.reported, ...few.reported, ...old.reported]).toEqual([]);
  });

  it('a send starts a check by itself once the check interval has passed', async () => {
    const { reported, sendSome, advance } = watch({ checkEveryMs: 5 * MINUTE });
    sendSome(3);
    advance(11 * MINUTE);
    expect(reported).toEqual([]);
    sendSome(1);
    await eventually('the background check', () =>
      Promise.resolve(reported.length > 0 ? reported : undefined),
    );
    expect(reported[0]?.context).toEqual({ unconfirmedSends: 3 });
  });
});
