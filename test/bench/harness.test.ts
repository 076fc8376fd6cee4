/**
 * The bench harness's pieces at tiny sizes (no timing is asserted): the reference server does what it claims,
 * the load generator's payloads are valid signed Twilio posts and its runs count what they sent, the /proc
 * readings and the profile summary read real data.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKER } from '../../bench/fakes.js';
import { buildPayloads, runLoad, type PayloadSpec } from '../../bench/load.js';
import { runLoadProcess } from '../../bench/load-process.js';
import { cpuMeter, cpuMs, rssMb } from '../../bench/proc.js';
import { summarizeProfile } from '../../bench/profile.js';
import { REFERENCE_TABLE, startReferenceServer, type ReferenceServer } from '../../bench/reference-server.js';
import { percentile, steadyRate } from '../../bench/stats.js';
import { verifyTwilioSignature } from '../../src/channels/twilio/signature.js';
import { parseForm } from '../helpers/twilio.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TEST_REDIS_URL } from '../helpers/services.js';

const TOKEN = 'bench-test-token';
const PATH = '/api/whatsapp/webhook/';

let database: TestDatabase;
let reference: ReferenceServer;
let redis: Redis;
let pool: pg.Pool;
const redisKey = `test-${randomUUID()}:reference:inbound`;

function payloads(count: number, url: string): PayloadSpec {
  return {
    count,
    tag: `t${randomUUID().slice(0, 8)}`,
    firstUser: 100,
    users: count,
    authToken: TOKEN,
    signedUrl: url,
  };
}

async function storedRows(): Promise<number> {
  const result = await pool.query<{ n: string }>(`select count(*)::text as n from ${REFERENCE_TABLE}`);
  return Number(result.rows[0]?.n);
}

beforeAll(async () => {
  database = await createTestDatabase();
  reference = await startReferenceServer({
    port: 0,
    databaseUrl: database.url,
    redisUrl: TEST_REDIS_URL,
    redisKey,
    authToken: TOKEN,
    poolSize: 2,
  });
  redis = new Redis(TEST_REDIS_URL);
  pool = new pg.Pool({ connectionString: database.url, max: 1 });
});

afterAll(async () => {
  await reference.close();
  await redis.del(redisKey);
  redis.disconnect();
  await pool.end();
  await database.close();
});

describe('load generator payloads', () => {
  it('are Twilio posts signed for the URL, each with its own MessageSid, sender and marker', () => {
    const url = 'http://127.0.0.1:9/api/whatsapp/webhook/';
    const built = buildPayloads(payloads(5, url));
    const sids = new Set<string>();
    const senders = new Set<string>();
    for (const payload of built) {
      const params = parseForm(payload.body.toString());
      expect(verifyTwilioSignature({ authToken: TOKEN, url, params, signature: payload.signature })).toBe(
        true,
      );
      expect(params.Body).toContain(`[bench:${payload.marker}]`);
      sids.add(String(params.MessageSid));
      senders.add(String(params.From));
    }
    expect(sids.size).toBe(5);
    expect(senders.size).toBe(5);
  });

  it('carry a marker the fakes can find again in an echoed reply', () => {
    expect(MARKER.exec('fake reply to: [bench:r3-17] Hi! Could you tell me…')?.[1]).toBe('r3-17');
  });
});

describe('reference server', () => {
  it('stores and pushes a correctly signed post and answers empty TwiML', async () => {
    const before = await storedRows();
    const [payload] = buildPayloads(payloads(1, `${reference.url}${PATH}`));
    const response = await fetch(`${reference.url}${PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': payload!.signature,
      },
      body: payload!.body,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<Response/>');
    expect(await storedRows()).toBe(before + 1);
    expect(await redis.llen(redisKey)).toBeGreaterThanOrEqual(1);
  });

  it('refuses a post whose signature does not match, storing nothing', async () => {
    const before = await storedRows();
    const [payload] = buildPayloads(payloads(1, 'http://elsewhere.example/api/whatsapp/webhook/'));
    const response = await fetch(`${reference.url}${PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': payload!.signature,
      },
      body: payload!.body,
    });
    expect(response.status).toBe(403);
    expect(await storedRows()).toBe(before);
  });
});

describe('load runs', () => {
  it('a flood sends every payload once and records when each marker was sent', async () => {
    const before = await storedRows();
    const url = `${reference.url}${PATH}`;
    const events: string[] = [];
    const result = await runLoad(
      { url, concurrency: 4, recordSends: true, payloads: payloads(20, url) },
      (event) => events.push(event),
    );
    expect(result.completed).toBe(20);
    expect(result.errors).toBe(0);
    expect(result.statuses).toEqual({ 200: 20 });
    expect(new Set(result.sends.map(([marker]) => marker)).size).toBe(20);
    expect(result.latencyMs.count).toBe(20);
    expect(events).toEqual(['window', 'done']);
    expect(await storedRows()).toBe(before + 20);
  });

  it('an open-loop run at a fixed rate sends all its payloads', async () => {
    const url = `${reference.url}${PATH}`;
    const result = await runLoad({ url, concurrency: 4, ratePerSecond: 100, payloads: payloads(10, url) });
    expect(result.completed).toBe(10);
    expect(result.errors).toBe(0);
  });

  it('a timed run in its own process counts answers, and errors when the signature is wrong', async () => {
    const url = `${reference.url}${PATH}`;
    let windows = 0;
    const result = await runLoadProcess(
      {
        url,
        concurrency: 2,
        warmupMs: 100,
        durationMs: 300,
        payloads: { ...payloads(2000, url), signedUrl: 'http://wrong.example/' },
      },
      { onWindow: () => (windows += 1) },
    );
    expect(windows).toBe(1);
    expect(result.completed).toBeGreaterThan(0);
    expect(result.errors).toBe(result.completed);
    expect(Object.keys(result.statuses)).toEqual(['403']);
  });
});

describe('measurements', () => {
  it('reads CPU time and resident memory of a live process from /proc', () => {
    const before = cpuMs(process.pid);
    const meter = cpuMeter({ self: () => [process.pid] });
    meter.start();
    const end = performance.now() + 200;
    let spins = 0;
    while (performance.now() < end) spins += 1;
    const used = meter.stop();
    expect(spins).toBeGreaterThan(0);
    expect(cpuMs(process.pid)).toBeGreaterThan(before ?? 0);
    expect(used.self?.ms).toBeGreaterThan(0);
    expect(used).toHaveProperty('other processes');
    expect(rssMb(process.pid)).toBeGreaterThan(10);
    expect(cpuMs(2 ** 22 + 1)).toBeNull();
  });

  it('summarises a V8 CPU profile by function, area and our own code', async () => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const end = performance.now() + 150;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
    try {
      const file = join(dir, 'test.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const summary = summarizeProfile(file);
      expect(x).toBeGreaterThan(0);
      expect(summary.busyMs).toBeGreaterThan(0);
      expect(summary.selfTop.length).toBeGreaterThan(0);
      expect(summary.areas.some((area) => area.name.includes('test/bench/harness.test.ts'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes percentiles by nearest rank and the steady rate between the 10th and 90th percentile', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(percentile([], 0.5)).toBeNaN();
    // 100 arrivals 10 ms apart, plus a late straggler that must not drag the rate down.
    const arrivals = Array.from({ length: 100 }, (_, i) => i * 10).concat([5000]);
    expect(steadyRate(arrivals)).toBeCloseTo(100, 0);
  });
});
