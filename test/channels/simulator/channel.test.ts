import { describe, expect, it } from 'vitest';
import {
  ALL_ADDRESSES,
  createSimulatorChannel,
  SIMULATOR_BUSINESS_ADDRESS,
  type SimulatorEvent,
} from '../../../src/channels/simulator/channel.js';

const ADA = 'whatsapp:+14155550101';
const BOB = 'whatsapp:+14155550102';

describe('simulator channel', () => {
  it('has the name and body limit the pipeline splits by (like Twilio: 1600)', () => {
    const channel = createSimulatorChannel();
    expect(channel.name).toBe('simulator');
    expect(channel.maxBodyLength).toBe(1600);
  });

  it('send returns a fresh SIM id with status sent and keeps the message in the outbox of its address', async () => {
    const channel = createSimulatorChannel();
    const first = await channel.send({ to: ADA, body: 'one' });
    const second = await channel.send({ to: ADA, from: 'whatsapp:other', body: 'two' });
    await channel.send({ to: BOB, body: 'for bob' });

    expect(first.providerMessageId).toMatch(/^SIM[0-9a-f]{32}$/);
    expect(first.status).toBe('sent');
    expect(second.providerMessageId).not.toBe(first.providerMessageId);
    expect(channel.sent(ADA).map((m) => [m.body, m.from])).toEqual([
      ['one', SIMULATOR_BUSINESS_ADDRESS],
      ['two', 'whatsapp:other'],
    ]);
    expect(channel.sent(BOB).map((m) => m.body)).toEqual(['for bob']);
    expect(channel.sent('whatsapp:+19999999999')).toEqual([]);
  });

  it('sent() hands out copies: changing them does not change the outbox', async () => {
    const channel = createSimulatorChannel();
    await channel.send({ to: ADA, body: 'original' });
    channel.sent(ADA)[0]!.body = 'changed';
    expect(channel.sent(ADA)[0]!.body).toBe('original');
  });

  it('findSent finds the newest message with the same body sent after the time asked, else null', async () => {
    const channel = createSimulatorChannel();
    const before = new Date();
    await channel.send({ to: ADA, body: 'same' });
    const newest = await channel.send({ to: ADA, body: 'same' });

    expect(await channel.findSent({ to: ADA, body: 'same', sentAfter: before })).toEqual(newest);
    expect(await channel.findSent({ to: ADA, body: 'other', sentAfter: before })).toBeNull();
    expect(await channel.findSent({ to: BOB, body: 'same', sentAfter: before })).toBeNull();
    expect(
      await channel.findSent({ to: ADA, body: 'same', sentAfter: new Date(Date.now() + 60_000) }),
    ).toBeNull();
    expect(
      await channel.findSent({ to: ADA, from: 'whatsapp:other', body: 'same', sentAfter: before }),
    ).toBeNull();
  });

  it('findSent reports the status the message has reached', async () => {
    const channel = createSimulatorChannel();
    const sent = await channel.send({ to: ADA, body: 'hello' });
    channel.markStatus(sent.providerMessageId, 'read');
    expect(await channel.findSent({ to: ADA, body: 'hello', sentAfter: new Date(0) })).toEqual({
      providerMessageId: sent.providerMessageId,
      status: 'read',
    });
  });

  it('subscribers of an address get its messages and status changes; ALL_ADDRESSES gets everything', async () => {
    const channel = createSimulatorChannel();
    const ada: SimulatorEvent[] = [];
    const all: SimulatorEvent[] = [];
    channel.subscribe(ADA, (event) => ada.push(event));
    channel.subscribe(ALL_ADDRESSES, (event) => all.push(event));

    const sent = await channel.send({ to: ADA, body: 'hi ada' });
    await channel.send({ to: BOB, body: 'hi bob' });
    expect(channel.markStatus(sent.providerMessageId, 'delivered')).toBe(true);

    expect(ada).toEqual([
      {
        type: 'message',
        message: expect.objectContaining({ to: ADA, body: 'hi ada', status: 'sent' }) as unknown,
      },
      { type: 'status', to: ADA, providerMessageId: sent.providerMessageId, status: 'delivered' },
    ]);
    expect(all.map((event) => event.type)).toEqual(['message', 'message', 'status']);
  });

  it('statuses only move forward, and only a change is announced', async () => {
    const channel = createSimulatorChannel();
    const events: SimulatorEvent[] = [];
    channel.subscribe(ADA, (event) => events.push(event));
    const { providerMessageId } = await channel.send({ to: ADA, body: 'x' });

    channel.markStatus(providerMessageId, 'read');
    channel.markStatus(providerMessageId, 'delivered');
    channel.markStatus(providerMessageId, 'read');

    expect(events.flatMap((e) => (e.type === 'status' ? [e.status] : []))).toEqual(['read']);
    expect(channel.sent(ADA)[0]!.status).toBe('read');
    expect(channel.markStatus('SIM-unknown', 'read')).toBe(false);
  });

  it('unsubscribing stops the events, and a throwing listener does not break a send', async () => {
    const channel = createSimulatorChannel();
    const seen: string[] = [];
    const stop = channel.subscribe(ADA, (event) => seen.push(event.type));
    channel.subscribe(ADA, () => {
      throw new Error('page went away');
    });

    await expect(channel.send({ to: ADA, body: 'one' })).resolves.toMatchObject({ status: 'sent' });
    stop();
    await channel.send({ to: ADA, body: 'two' });
    expect(seen).toEqual(['message']);
  });

  it('listeners get their own copy of each event', async () => {
    const channel = createSimulatorChannel();
    channel.subscribe(ADA, (event) => {
      if (event.type === 'message') event.message.body = 'tampered';
    });
    await channel.send({ to: ADA, body: 'kept' });
    expect(channel.sent(ADA)[0]!.body).toBe('kept');
  });
});
