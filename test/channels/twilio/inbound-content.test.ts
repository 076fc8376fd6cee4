import { describe, expect, it } from 'vitest';
import { parseTwilioInbound } from '../../../src/channels/twilio/inbound.js';
import { mediaKind } from '../../../src/channels/twilio/inbound-content.js';
import type { Content, MessageContext } from '../../../src/domain/content.js';
import {
  buttonCapture,
  droppedPinCapture,
  scopedIdCapture,
  textCapture,
  vcardCapture,
  voiceCapture,
} from '../../fixtures/twilio-inbound.js';
import { inboundParams, randomSid } from '../../helpers/twilio.js';

const MEDIA_URL = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1';

function oneMedia(contentType: string, extra: Record<string, string> = {}): Record<string, string> {
  return inboundParams({
    Body: '',
    NumMedia: '1',
    MediaUrl0: MEDIA_URL,
    MediaContentType0: contentType,
    ...extra,
  });
}

describe('parseTwilioInbound: captured messages (wire facts §1)', () => {
  it('§1.10 text with ExternalUserId beside the phone number', () => {
    const message = parseTwilioInbound(textCapture());
    expect(message.content).toEqual({ type: 'text', text: 'Hola' });
    expect(message.context).toEqual({});
    expect(message.body).toBe('Hola');
    expect(message.from).toBe('whatsapp:+573003255454');
    expect(message.userId).toBe('whatsapp:CO.4480491918930694');
    expect(message.profileName).toBe('David Ríos');
    expect(message.metadata.channelMetadata).toEqual({
      ProfileName: 'David Ríos',
      WaId: '573003255454',
      Forwarded: 'false',
      FrequentlyForwarded: 'false',
    });
  });

  it('§1.6 tapped button: payload is the id, the quoted message is the one with the buttons', () => {
    const message = parseTwilioInbound(buttonCapture());
    expect(message.content).toEqual({
      type: 'interactive_reply',
      kind: 'button',
      id: '{verifyEmail:asd@asd.com}',
      title: 'Konfirmasi',
    });
    expect(message.context).toEqual({
      quote: { providerMessageId: 'MM5cc44eecf7dab0d48d4529d0fa4af44d', sender: 'whatsapp:+14155238886' },
    });
    expect(message.body).toBe(
      '[Replying to an earlier message]\n[Tapped the button "Konfirmasi" (payload: {verifyEmail:asd@asd.com})]',
    );
    expect(message.userId).toBe('whatsapp:ID.4566546130240823');
    expect(message.metadata).toMatchObject({
      buttonPayload: '{verifyEmail:asd@asd.com}',
      buttonText: 'Konfirmasi',
    });
  });

  it('§1.4 vCard share becomes a contact card that points at the file', () => {
    const params = vcardCapture();
    const message = parseTwilioInbound(params);
    expect(message.content).toEqual({ type: 'contacts', contacts: [], vcardReferences: [params.MediaUrl0] });
    expect(message.body).toBe('[Contact card (vCard file); its name and numbers were not read]');
  });

  it('§1.4 voice note without a Body param', () => {
    const params = voiceCapture();
    const message = parseTwilioInbound(params);
    expect(message.content).toEqual({
      type: 'media',
      items: [{ kind: 'voice', contentType: 'audio/ogg', reference: params.MediaUrl0 }],
    });
    expect(message.body).toBe('[Voice message (audio/ogg)]');
  });

  it('§1.5 dropped pin: location with coordinates only', () => {
    const message = parseTwilioInbound(droppedPinCapture());
    expect(message.content).toEqual({
      type: 'location',
      latitude: 51.51322977399644,
      longitude: -0.2197976373036567,
    });
    expect(message.body).toBe('[Shared location: coordinates 51.51322977399644, -0.2197976373036567]');
  });

  it('§1.9 a user known only by a business-scoped id keeps it, without a +', () => {
    const message = parseTwilioInbound(scopedIdCapture());
    expect(message.from).toBe('whatsapp:CO.899759302823042');
    // The stable id is From itself: userId is only set when it differs.
    expect(message).not.toHaveProperty('userId');
    expect(message.metadata).not.toHaveProperty('waId');
  });
});

describe('parseTwilioInbound: content kinds', () => {
  const cases: Array<[string, Record<string, string>, Content]> = [
    [
      'image with caption',
      oneMedia('image/jpeg', { Body: 'the receipt', MessageType: 'image' }),
      {
        type: 'media',
        items: [{ kind: 'image', contentType: 'image/jpeg', reference: MEDIA_URL }],
        caption: 'the receipt',
      },
    ],
    [
      'sticker named by MessageType',
      oneMedia('image/webp', { MessageType: 'sticker' }),
      { type: 'media', items: [{ kind: 'sticker', contentType: 'image/webp', reference: MEDIA_URL }] },
    ],
    [
      'audio file that is not a voice note',
      oneMedia('audio/mpeg'),
      { type: 'media', items: [{ kind: 'audio', contentType: 'audio/mpeg', reference: MEDIA_URL }] },
    ],
    [
      'voice note with codec parameters',
      oneMedia('audio/ogg; codecs=opus'),
      { type: 'media', items: [{ kind: 'voice', contentType: 'audio/ogg', reference: MEDIA_URL }] },
    ],
    [
      'video',
      oneMedia('video/mp4'),
      { type: 'media', items: [{ kind: 'video', contentType: 'video/mp4', reference: MEDIA_URL }] },
    ],
    [
      'document',
      oneMedia('application/pdf', { MessageType: 'document' }),
      { type: 'media', items: [{ kind: 'document', contentType: 'application/pdf', reference: MEDIA_URL }] },
    ],
    ['media announced but no URL', inboundParams({ Body: '', NumMedia: '1' }), { type: 'media', items: [] }],
    [
      'location with a label and an address',
      inboundParams({
        Body: '',
        MessageType: 'location',
        Latitude: '51.51322977399644',
        Longitude: '-0.2197976373036567',
        Address: '187 Freston Road, London',
        Label: 'The Harrow Club',
      }),
      {
        type: 'location',
        latitude: 51.51322977399644,
        longitude: -0.2197976373036567,
        name: 'The Harrow Club',
        address: '187 Freston Road, London',
      },
    ],
    [
      'template quick reply (MessageType=button)',
      inboundParams({ MessageType: 'button', Body: 'Yes', ButtonText: 'Yes', ButtonPayload: 'confirm_yes' }),
      { type: 'interactive_reply', kind: 'button', id: 'confirm_yes', title: 'Yes' },
    ],
    [
      'list row with a list id field',
      inboundParams({ MessageType: 'interactive', Body: 'Tue 10:00', ListId: 'slot_2' }),
      { type: 'interactive_reply', kind: 'list', id: 'slot_2', title: 'Tue 10:00' },
    ],
    [
      'interactive reply carrying only Body (list picker, field names unknown)',
      inboundParams({ MessageType: 'interactive', Body: 'Tue 10:00' }),
      { type: 'interactive_reply', kind: 'button', id: '', title: 'Tue 10:00' },
    ],
    [
      'the same words typed by hand stay text',
      inboundParams({ MessageType: 'text', Body: 'Konfirmasi' }),
      { type: 'text', text: 'Konfirmasi' },
    ],
    [
      'reaction with emoji and target',
      inboundParams({
        MessageType: 'reaction',
        Body: '👍',
        OriginalRepliedMessageSid: 'SM' + 'a'.repeat(32),
      }),
      { type: 'reaction', emoji: '👍', targetProviderMessageId: 'SM' + 'a'.repeat(32) },
    ],
    [
      'reaction removed',
      inboundParams({ MessageType: 'reaction', Body: '', OriginalRepliedMessageSid: 'SM' + 'a'.repeat(32) }),
      { type: 'reaction', emoji: null, targetProviderMessageId: 'SM' + 'a'.repeat(32) },
    ],
    [
      'reaction of an unknown shape',
      inboundParams({ MessageType: 'reaction', Body: '👍' }),
      { type: 'unsupported', providerType: 'reaction' },
    ],
    [
      'unknown type with nothing in it',
      inboundParams({ MessageType: 'order', Body: '' }),
      { type: 'unsupported', providerType: 'order' },
    ],
    [
      'no MessageType and nothing in it',
      withoutMessageType({ Body: '' }),
      { type: 'unsupported', providerType: 'unknown' },
    ],
    [
      'unknown type that still has text',
      inboundParams({ MessageType: 'somethingnew', Body: 'hello' }),
      { type: 'text', text: 'hello' },
    ],
  ];
  it.each(cases)('%s', (_name, params, content) => {
    const message = parseTwilioInbound(params);
    expect(message.content).toEqual(content);
    expect(message.body.trim()).not.toBe('');
  });

  it('reads forwarding flags as the strings Twilio sends', () => {
    const forwarded = (extra: Record<string, string>): MessageContext =>
      parseTwilioInbound(inboundParams(extra)).context;
    expect(forwarded({ Forwarded: 'false', FrequentlyForwarded: 'false' })).toEqual({});
    expect(forwarded({ Forwarded: 'true', FrequentlyForwarded: 'false' })).toEqual({ forwarded: 'once' });
    expect(forwarded({ Forwarded: 'true', FrequentlyForwarded: 'true' })).toEqual({
      forwarded: 'frequently',
    });
    expect(parseTwilioInbound(inboundParams({ Forwarded: 'true' })).body).toBe('[Forwarded]\nHello there');
  });

  it('reads a click-to-WhatsApp referral, and ReferralNumMedia=0 alone is not one', () => {
    const message = parseTwilioInbound(
      inboundParams({
        ReferralSourceId: '118588094077142',
        ReferralSourceType: 'post',
        ReferralSourceUrl: 'https://fb.me/xyz123',
        ReferralHeadline: 'Spring sale',
        ReferralBody: 'Half price',
        ReferralCtwaClid: 'ARAkLkA8rmlFeiCktEJQ',
        ReferralNumMedia: '0',
      }),
    );
    expect(message.context.referral).toEqual({
      sourceId: '118588094077142',
      sourceType: 'post',
      sourceUrl: 'https://fb.me/xyz123',
      headline: 'Spring sale',
      body: 'Half price',
      ctwaClid: 'ARAkLkA8rmlFeiCktEJQ',
    });
    expect(message.body).toBe('[Came from post "Spring sale"]\nHello there');
    expect(parseTwilioInbound(inboundParams({ ReferralNumMedia: '0' })).context).toEqual({});
  });

  it('drops a quote whose SID or sender is not well-formed', () => {
    expect(parseTwilioInbound(inboundParams({ OriginalRepliedMessageSid: 'SM 1; drop' })).context).toEqual(
      {},
    );
    const sid = randomSid('SM');
    expect(
      parseTwilioInbound(
        inboundParams({ OriginalRepliedMessageSid: sid, OriginalRepliedMessageSender: 'nobody' }),
      ).context,
    ).toEqual({ quote: { providerMessageId: sid } });
  });

  it('never fails on ChannelMetadata, whatever it holds', () => {
    for (const value of [
      '{not json',
      '[]',
      'null',
      '{"data":{"context":[1]}}',
      '{"data":{"context":{"a b":"x","n":1}}}',
    ]) {
      const message = parseTwilioInbound(inboundParams({ ChannelMetadata: value }));
      expect(message.metadata).not.toHaveProperty('channelMetadata');
    }
  });

  it('reads an ExternalUserId without the whatsapp: prefix as the same address', () => {
    const message = parseTwilioInbound(inboundParams({ ExternalUserId: 'CO.4480491918930694' }));
    expect(message.userId).toBe('whatsapp:CO.4480491918930694');
  });

  it('leaves out an ExternalUserId that is not a business-scoped id', () => {
    const message = parseTwilioInbound(inboundParams({ ExternalUserId: 'whatsapp:+14155550100' }));
    expect(message).not.toHaveProperty('userId');
    expect(message.metadata.externalUserId).toBe('whatsapp:+14155550100');
  });
});

describe('mediaKind', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['image/jpeg', undefined, 'image'],
    ['image/webp', undefined, 'sticker'],
    ['image/webp', 'image', 'image'],
    ['image/png', 'sticker', 'sticker'],
    ['audio/ogg', undefined, 'voice'],
    ['audio/mpeg', 'voice', 'voice'],
    ['audio/amr', 'audio', 'audio'],
    ['video/3gpp', undefined, 'video'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', undefined, 'document'],
    ['text/plain', undefined, 'document'],
  ];
  it.each(cases)('%s with MessageType %s → %s', (contentType, messageType, kind) => {
    expect(mediaKind(contentType, messageType)).toBe(kind);
  });
});

function withoutMessageType(extra: Record<string, string>): Record<string, string> {
  const params = inboundParams(extra);
  delete params.MessageType;
  return params;
}
