/**
 * The composition root with a default Meta number: the channel is there (measured, with its read receipts kept
 * by the decorator), named on the banner, and its health entry is local knowledge that never calls Meta.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { compose, type Composed } from '../../src/main/compose.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';

const MAIN = { phoneNumberId: '106540352242922', token: 'EAAG-main-token' };

let database: TestDatabase;
let graph: FakeGraphApi;
let composed: Composed;
beforeAll(async () => {
  [database, graph] = await Promise.all([createTestDatabase(), startFakeGraphApi()]);
  graph.addNumber(MAIN);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    SIMULATOR_ENABLED: 'false',
    META_PHONE_NUMBER_ID: MAIN.phoneNumberId,
    META_ACCESS_TOKEN: MAIN.token,
    META_APP_SECRET: 'app-secret',
    META_VERIFY_TOKEN: 'verify-me',
    META_GRAPH_API_BASE_URL: graph.url,
  });
  composed = await compose(config, silentLogger(), { migrate: false });
});
afterAll(async () => {
  await composed.close();
  await Promise.all([database.close(), graph.close()]);
});

describe('compose with a Meta number', () => {
  it('builds the Meta channel and names it on the banner', () => {
    const channel = composed.deps.channelFor('meta');
    expect(channel?.name).toBe('meta');
    expect(channel?.senders).toEqual([MAIN.phoneNumberId]);
    expect(typeof channel?.acknowledge).toBe('function');
    expect(composed.describe).toContain(`channels: Meta (${MAIN.phoneNumberId})`);
  });

  it('reports health from local knowledge: numbers, the last send and its error, no call to Meta', async () => {
    const check = composed.healthChecks.meta;
    expect(check).toBeDefined();
    expect(await check?.()).toEqual({ numbers: 1, lastSentAt: null, lastSendError: null });
    graph.failNext(1, { status: 401, code: 190, message: 'Error validating access token' });
    const channel = composed.deps.channelFor('meta');
    await expect(channel?.send({ to: '16505551234', body: 'hi' })).rejects.toMatchObject({
      kind: 'channel_auth',
    });
    const requestsBefore = graph.requests.length;
    expect(await check?.()).toMatchObject({
      numbers: 1,
      lastSendError: { kind: 'channel_auth', code: '190' },
    });
    expect(graph.requests).toHaveLength(requestsBefore);
  });
});
