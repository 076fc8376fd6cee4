/** The Meta webhook envelope: entries, changes, identity (phone, BSUID) and statuses. */
import { describe, expect, it } from 'vitest';
import { parseMetaWebhook } from '../../../src/channels/meta/inbound.js';
import { parseMetaStatus } from '../../../src/channels/meta/statuses.js';
import {
  metaChange,
  metaContact,
  metaEnvelope,
  metaStatus,
  metaText,
  TEST_PHONE_NUMBER_ID,
  type MetaJson,
} from '../../helpers/meta.js';

const WA_ID = '16505551234';
const BSUID = 'US.13491208655302741918';

describe('the envelope', () => {
  it('reads every entry and change, messages and statuses, with their phone number id', () => {
    const body = metaEnvelope([
      [
        metaChange({
          contacts: [metaContact({ waId: WA_ID })],
          messages: [metaText('one', { waId: WA_ID }), metaText('two', { waId: WA_ID })],
        }),
        metaChange({ statuses: [metaStatus({ id: 'wamid.S1', status: 'delivered' })] }),
      ],
      [
        metaChange({
          phoneNumberId: '2222222222',
          contacts: [metaContact({ waId: '16505550000' })],
          messages: [metaText('three', { waId: '16505550000' })],
          statuses: [metaStatus({ id: 'wamid.S2', status: 'read' })],
        }),
      ],
    ]);
    const events = parseMetaWebhook(body);
    expect(events.object).toBe('whatsapp_business_account');
    expect(events.skipped).toEqual([]);
    expect(events.changes.map((c) => c.phoneNumberId)).toEqual([
      TEST_PHONE_NUMBER_ID,
      TEST_PHONE_NUMBER_ID,
      '2222222222',
    ]);
    expect(events.changes.map((c) => c.messages.map((m) => m.body))).toEqual([['one', 'two'], [], ['three']]);
    expect(events.changes.map((c) => c.statuses.map((s) => s.status))).toEqual([[], ['delivered'], ['read']]);
    const first = events.changes[0]?.messages[0];
    expect(first).toMatchObject({
      channel: 'meta',
      to: TEST_PHONE_NUMBER_ID,
      from: `+${WA_ID}`,
      profileName: 'Sheena Nelson',
    });
  });

  it('leaves out other fields and objects, and messages it cannot store, saying why', () => {
    const body = metaEnvelope([
      [
        metaChange({ field: 'message_template_status_update' }),
        metaChange({
          messages: [
            { from: WA_ID, type: 'text', text: { body: 'no id' } },
            'not an object' as unknown as MetaJson,
          ],
        }),
      ],
    ]);
    const events = parseMetaWebhook(body);
    expect(events.changes[0]?.messages).toEqual([]);
    expect(events.skipped).toEqual([
      'field "message_template_status_update"',
      'a message without an id',
      'a message that is not an object',
    ]);
    expect(parseMetaWebhook({ object: 'page', entry: [] }).changes).toEqual([]);
    expect(() => parseMetaWebhook([1, 2])).toThrow(/not a JSON object/);
  });

  it('leaves out a change without metadata.phone_number_id', () => {
    const events = parseMetaWebhook({
      object: 'whatsapp_business_account',
      entry: [
        { id: '1', changes: [{ field: 'messages', value: { messages: [metaText('x', { waId: WA_ID })] } }] },
      ],
    });
    expect(events.changes).toEqual([]);
    expect(events.skipped).toEqual(['a change without metadata.phone_number_id']);
  });
});

describe('identity', () => {
  const parse = (message: Record<string, unknown>, contacts: Record<string, unknown>[]) => {
    const events = parseMetaWebhook(metaEnvelope([[metaChange({ contacts, messages: [message] })]]));
    return { message: events.changes[0]?.messages[0], skipped: events.skipped };
  };

  it('a phone user: from is +wa_id, no separate user id', () => {
    const { message } = parse(metaText('hi', { waId: WA_ID }), [metaContact({ waId: WA_ID })]);
    expect(message?.from).toBe(`+${WA_ID}`);
    expect(message?.userId).toBeUndefined();
    expect(message?.metadata).toMatchObject({ waId: WA_ID });
  });

  it('phone and BSUID (messages[].from_user_id): keyed on the BSUID, replies to the phone', () => {
    const { message } = parse(metaText('hi', { waId: WA_ID, userId: BSUID }), [
      { profile: { name: 'Ana' }, wa_id: WA_ID, user_id: BSUID, country_code: 'US' },
    ]);
    expect(message).toMatchObject({ from: `+${WA_ID}`, userId: BSUID, profileName: 'Ana' });
    expect(message?.metadata).toMatchObject({ waId: WA_ID, userId: BSUID, countryCode: 'US' });
  });

  it('the BSUID only in contacts[].user_id is read too', () => {
    const { message } = parse(metaText('hi', { waId: WA_ID }), [metaContact({ waId: WA_ID, userId: BSUID })]);
    expect(message).toMatchObject({ from: `+${WA_ID}`, userId: BSUID });
  });

  it('a BSUID-only sender (from ""): from is the BSUID, with the username from profile', () => {
    const { message } = parse(metaText('hi', { waId: '', userId: BSUID }), [
      metaContact({ waId: '', userId: BSUID, username: 'ana.codes', name: 'Ana' }),
    ]);
    expect(message?.from).toBe(BSUID);
    expect(message?.userId).toBeUndefined();
    expect(message?.metadata).toMatchObject({ userId: BSUID, username: 'ana.codes', profileName: 'Ana' });
  });

  it('accepts the draft’s user.<hex> BSUID and a username beside profile', () => {
    const { message } = parse(metaText('hi', { waId: '' }), [
      { profile: { name: 'B' }, wa_id: '', user_id: 'user.3f9a0c', username: 'bee' },
    ]);
    expect(message?.from).toBe('user.3f9a0c');
    expect(message?.metadata).toMatchObject({ username: 'bee' });
  });

  it('a message with neither a phone number nor a BSUID is left out', () => {
    const { message, skipped } = parse(metaText('hi', { waId: '' }), [{ profile: { name: 'x' }, wa_id: '' }]);
    expect(message).toBeUndefined();
    expect(skipped[0]).toMatch(/neither a phone number nor a user id/);
  });

  it('a BSUID that could smuggle separators is not taken', () => {
    const { message } = parse(metaText('hi', { waId: WA_ID, userId: 'US.1 2\nx' }), []);
    expect(message?.from).toBe(`+${WA_ID}`);
    expect(message?.userId).toBeUndefined();
  });
});

describe('statuses', () => {
  it.each([
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['played', 'read'],
    ['failed', 'failed'],
  ])('%s → %s', (meta, ours) => {
    const parsed = parseMetaStatus(metaStatus({ id: 'wamid.X', status: meta }));
    expect(parsed.ok && parsed.update.status).toBe(ours);
  });

  it('a failure carries the first error’s code (131047: outside the window)', () => {
    const parsed = parseMetaStatus(metaStatus({ id: 'wamid.X', status: 'failed', errorCode: 131047 }));
    expect(parsed).toMatchObject({
      ok: true,
      update: {
        status: 'failed',
        errorCode: '131047',
        errors: [{ code: '131047', title: 'Message undeliverable' }],
      },
    });
  });

  it('a status Meta may add later is left out, not guessed', () => {
    expect(parseMetaStatus(metaStatus({ id: 'wamid.X', status: 'deleted' }))).toEqual({
      ok: false,
      reason: 'status "deleted" of wamid.X is not a delivery status',
    });
    expect(parseMetaStatus({ status: 'read' }).ok).toBe(false);
  });

  it('biz_opaque_callback_data is our part id only when it is a uuid', () => {
    const partId = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';
    const ours = parseMetaStatus(metaStatus({ id: 'wamid.X', status: 'sent', partId }));
    expect(ours.ok && ours.update.partId).toBe(partId);
    const other = parseMetaStatus(metaStatus({ id: 'wamid.X', status: 'sent', partId: 'campaign-7' }));
    expect(other.ok && other.update.partId).toBeUndefined();
  });
});
