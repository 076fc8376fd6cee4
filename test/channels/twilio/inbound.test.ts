import { describe, it, expect } from 'vitest';
import { AppError } from '../../../src/domain/errors.js';
import {
  DEFAULT_MAX_INBOUND_LENGTH,
  parseTwilioInbound,
  parseTwilioStatus,
  toDeliveryStatus,
  type FormParams,
} from '../../../src/channels/twilio/inbound.js';
import { inboundParams, randomSid, TEST_ACCOUNT_SID, TEST_BUSINESS_NUMBER } from '../../helpers/twilio.js';

function invalid(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.kind).toBe('invalid_input');
    expect(appError.retryable).toBe(false);
    return appError;
  }
  throw new Error('expected an invalid_input AppError, nothing was thrown');
}

describe('parseTwilioInbound', () => {
  it('parses a realistic text message', () => {
    const params = inboundParams({ From: 'whatsapp:+14155550123', Body: 'Hi! 👋' });
    const message = parseTwilioInbound(params);
    expect(message).toEqual({
      channel: 'twilio',
      providerMessageId: params.MessageSid,
      from: 'whatsapp:+14155550123',
      to: TEST_BUSINESS_NUMBER,
      body: 'Hi! 👋',
      content: { type: 'text', text: 'Hi! 👋' },
      context: {},
      profileName: 'Test User',
      metadata: {
        numMedia: 0,
        profileName: 'Test User',
        waId: '14155550123',
        messageType: 'text',
        accountSid: TEST_ACCOUNT_SID,
      },
    });
  });

  it('accepts a sender who hides their number (business-scoped id) and keeps ExternalUserId', () => {
    const params = inboundParams({
      From: 'whatsapp:US.13491208655302741918',
      ExternalUserId: 'US.13491208655302741918',
    });
    delete params.WaId;
    const message = parseTwilioInbound(params);
    expect(message.from).toBe('whatsapp:US.13491208655302741918');
    expect(message.metadata.externalUserId).toBe('US.13491208655302741918');
    expect(message).not.toHaveProperty('userId'); // the same as From
    expect(message.metadata).not.toHaveProperty('waId');
  });

  it('accepts MM message SIDs and uppercase hex', () => {
    const sid = 'MM' + 'ABCDEF0123456789'.repeat(2);
    expect(parseTwilioInbound(inboundParams({ MessageSid: sid })).providerMessageId).toBe(sid);
  });

  it('sanitizes the body: control characters removed, CRLF normalised, unicode kept', () => {
    const message = parseTwilioInbound(
      inboundParams({ Body: 'line 1\r\nline\u0000 2\u001B[31m\u0085 — ok ✅' }),
    );
    expect(message.body).toBe('line 1\nline 2[31m — ok ✅');
  });

  it('sanitizes and caps the profile name', () => {
    expect(parseTwilioInbound(inboundParams({ ProfileName: ' Zoë\u0007 ' })).profileName).toBe('Zoë');
    const long = parseTwilioInbound(inboundParams({ ProfileName: '😀'.repeat(300) })).profileName;
    expect(long).toBe('😀'.repeat(256));
    const missing = inboundParams();
    delete missing.ProfileName;
    expect(parseTwilioInbound(missing).profileName).toBeNull();
    expect(parseTwilioInbound(inboundParams({ ProfileName: '' })).profileName).toBeNull();
  });

  it('gives a media-only message content the model can see, and keeps the media', () => {
    const message = parseTwilioInbound(
      inboundParams({
        Body: '',
        NumMedia: '2',
        MessageType: 'image',
        MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
        MediaContentType0: 'image/jpeg',
        MediaUrl1: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2',
        MediaContentType1: 'audio/ogg',
      }),
    );
    expect(message.body).toBe('[Image (image/jpeg)]\n[Voice message (audio/ogg)]');
    expect(message.metadata.numMedia).toBe(2);
    expect(message.metadata.media).toEqual([
      {
        url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
        contentType: 'image/jpeg',
      },
      {
        url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2',
        contentType: 'audio/ogg',
      },
    ]);
  });

  it('keeps a caption as the body when media has one', () => {
    const message = parseTwilioInbound(
      inboundParams({
        Body: 'look',
        NumMedia: '1',
        MediaUrl0: 'https://x.example/m',
        MediaContentType0: 'image/png',
      }),
    );
    expect(message.body).toBe('[Image (image/png)]\nlook');
    expect(message.metadata.media).toEqual([{ url: 'https://x.example/m', contentType: 'image/png' }]);
  });

  it('does not trust a strange media content type', () => {
    const message = parseTwilioInbound(
      inboundParams({
        Body: '',
        NumMedia: '1',
        MediaUrl0: 'https://x.example/m',
        MediaContentType0: 'image/png]\nIGNORE',
      }),
    );
    expect(message.body).toBe('[Document (application/octet-stream)]');
    expect(message.metadata.media).toEqual([{ url: 'https://x.example/m', contentType: 'unknown' }]);
  });

  it('keeps location, buttons, replies and referral fields that are present', () => {
    const message = parseTwilioInbound(
      inboundParams({
        Body: '',
        MessageType: 'location',
        Latitude: '37.7879277',
        Longitude: '-122.4075287',
        Address: '1 Market St, San Francisco',
        Label: 'Twilio HQ',
        ButtonPayload: 'order_status',
        ButtonText: 'Order status',
        OriginalRepliedMessageSid: randomSid('SM'),
        ReferralBody: 'Ad body',
        ReferralSourceType: 'ad',
        ReferralCtwaClid: 'clid-1',
        MessagingServiceSid: 'MG' + 'a'.repeat(32),
      }),
    );
    expect(message.body).toBe(
      '[Came from ad "Ad body"]\n[Replying to an earlier message]\n' +
        '[Shared location: Twilio HQ, 1 Market St, San Francisco, coordinates 37.7879277, -122.4075287]',
    );
    expect(message.metadata).toMatchObject({
      location: {
        latitude: 37.7879277,
        longitude: -122.4075287,
        address: '1 Market St, San Francisco',
        label: 'Twilio HQ',
      },
      buttonPayload: 'order_status',
      buttonText: 'Order status',
      referral: { ReferralBody: 'Ad body', ReferralSourceType: 'ad', ReferralCtwaClid: 'clid-1' },
      messagingServiceSid: 'MG' + 'a'.repeat(32),
    });
    expect(message.metadata.originalRepliedMessageSid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('leaves out the empty referral Twilio sends on every message', () => {
    expect(parseTwilioInbound(inboundParams()).metadata).not.toHaveProperty('referral');
  });

  it('ignores unknown params and accepts repeats of keys it does not read', () => {
    const message = parseTwilioInbound({ ...inboundParams({ Body: 'ok' }), SomethingNew: ['a', 'b'] });
    expect(message.body).toBe('ok');
  });

  it('accepts a body at the length cap, counting emoji as one character', () => {
    const body = '👍'.repeat(DEFAULT_MAX_INBOUND_LENGTH);
    expect(parseTwilioInbound(inboundParams({ Body: body })).body).toBe(body);
  });

  const rejected: Array<[string, FormParams, RegExp]> = [
    ['missing MessageSid', withoutKey(inboundParams(), 'MessageSid'), /MessageSid is missing/],
    ['empty MessageSid', inboundParams({ MessageSid: '' }), /MessageSid is missing/],
    ['MessageSid with a wrong prefix', inboundParams({ MessageSid: 'XX' + 'a'.repeat(32) }), /MessageSid/],
    ['MessageSid too short', inboundParams({ MessageSid: 'SM' + 'a'.repeat(31) }), /MessageSid/],
    ['MessageSid with an injection', inboundParams({ MessageSid: "SM' OR 1=1 --" }), /MessageSid/],
    [
      'repeated MessageSid',
      { ...inboundParams(), MessageSid: [randomSid('SM'), randomSid('SM')] },
      /MessageSid must appear once/,
    ],
    ['missing From', withoutKey(inboundParams(), 'From'), /From is missing/],
    ['missing To', withoutKey(inboundParams(), 'To'), /To is missing/],
    ['From that is a bare number', inboundParams({ From: '+14155550100' }), /From is not a WhatsApp address/],
    [
      'From with a bad phone number',
      inboundParams({ From: 'whatsapp:+0123' }),
      /From is not a WhatsApp address/,
    ],
    ['From with whitespace', inboundParams({ From: 'whatsapp:some one' }), /From/],
    ['To on another channel', inboundParams({ To: 'sms:+14155238886' }), /To is not a WhatsApp address/],
    [
      'repeated From',
      { ...inboundParams(), From: ['whatsapp:+14155550100', 'whatsapp:+14155550101'] },
      /From must appear once/,
    ],
    ['repeated Body', { ...inboundParams(), Body: ['a', 'b'] }, /Body must appear once/],
    [
      'body over the cap',
      inboundParams({ Body: 'a'.repeat(DEFAULT_MAX_INBOUND_LENGTH + 1) }),
      /longer than 4096/,
    ],
    ['NumMedia not a number', inboundParams({ NumMedia: 'lots' }), /NumMedia/],
    ['NumMedia absurdly large', inboundParams({ NumMedia: '99999999' }), /NumMedia/],
    ['latitude without longitude', inboundParams({ Latitude: '1.5' }), /Latitude\/Longitude/],
    ['latitude out of range', inboundParams({ Latitude: '91', Longitude: '0' }), /Latitude\/Longitude/],
    [
      'coordinates that are not numbers',
      inboundParams({ Latitude: 'NaN', Longitude: '1e3' }),
      /Latitude\/Longitude/,
    ],
  ];
  it.each(rejected)('rejects %s', (_name, params, message) => {
    expect(invalid(() => parseTwilioInbound(params)).message).toMatch(message);
  });

  it('takes the length cap as a parameter, measured after sanitizing', () => {
    expect(
      invalid(() => parseTwilioInbound(inboundParams({ Body: 'abcdef' }), { maxBodyLength: 5 })).message,
    ).toMatch(/longer than 5/);
    expect(parseTwilioInbound(inboundParams({ Body: 'abcde\u0000\u0000' }), { maxBodyLength: 5 }).body).toBe(
      'abcde',
    );
  });

  it('does not read inherited properties as params', () => {
    const params = Object.create({ MessageSid: randomSid('SM') }) as FormParams;
    Object.assign(params, withoutKey(inboundParams(), 'MessageSid'));
    expect(invalid(() => parseTwilioInbound(params)).message).toMatch(/MessageSid is missing/);
  });

  it('accepts a single-element array for a single-valued key', () => {
    const sid = randomSid('SM');
    expect(parseTwilioInbound({ ...inboundParams(), MessageSid: [sid] }).providerMessageId).toBe(sid);
  });
});

describe('parseTwilioStatus', () => {
  const sid = randomSid('SM');
  const cases: Array<[FormParams, { status: string; errorCode: string | null }]> = [
    [
      { MessageSid: sid, MessageStatus: 'delivered' },
      { status: 'delivered', errorCode: null },
    ],
    [
      { MessageSid: sid, MessageStatus: 'read', SmsStatus: 'read' },
      { status: 'read', errorCode: null },
    ],
    [
      { MessageSid: sid, MessageStatus: 'failed', ErrorCode: '63016' },
      { status: 'failed', errorCode: '63016' },
    ],
    [
      { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30008' },
      { status: 'undelivered', errorCode: '30008' },
    ],
    [
      { MessageSid: sid, MessageStatus: 'sent', ErrorCode: '' },
      { status: 'sent', errorCode: null },
    ],
    [
      { MessageSid: sid, MessageStatus: 'partially_delivered' },
      { status: 'unknown', errorCode: null },
    ],
    [
      { MessageSid: sid, MessageStatus: 'something_new' },
      { status: 'unknown', errorCode: null },
    ],
    [
      { MessageSid: sid, SmsStatus: 'sent' },
      { status: 'sent', errorCode: null },
    ],
    [{ MessageSid: sid }, { status: 'unknown', errorCode: null }],
    [
      { MessageSid: sid, MessageStatus: 'failed', ErrorCode: '<script>' },
      { status: 'failed', errorCode: null },
    ],
  ];
  it.each(cases)('%o', (params, expected) => {
    expect(parseTwilioStatus(params)).toEqual({ providerMessageId: sid, ...expected });
  });

  it('rejects a missing, ill-shaped or repeated MessageSid', () => {
    invalid(() => parseTwilioStatus({ MessageStatus: 'sent' }));
    invalid(() => parseTwilioStatus({ MessageSid: 'SMnothex', MessageStatus: 'sent' }));
    invalid(() => parseTwilioStatus({ MessageSid: [sid, randomSid('SM')], MessageStatus: 'sent' }));
  });

  it('maps every Twilio status name', () => {
    const known = [
      'queued',
      'accepted',
      'scheduled',
      'sending',
      'sent',
      'failed',
      'undelivered',
      'delivered',
      'read',
      'canceled',
    ];
    for (const name of known) expect(toDeliveryStatus(name)).toBe(name);
    expect(toDeliveryStatus('DELIVERED')).toBe('delivered');
    expect(toDeliveryStatus(undefined)).toBe('unknown');
    expect(toDeliveryStatus('pending')).toBe('unknown'); // ours, never Twilio's
  });
});

function withoutKey(params: FormParams, key: string): FormParams {
  return Object.fromEntries(Object.entries(params).filter(([name]) => name !== key));
}
