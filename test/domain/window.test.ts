import { describe, expect, it } from 'vitest';
import type { OutboundContent } from '../../src/domain/content.js';
import {
  applyWindow,
  isWindowFailure,
  serviceWindow,
  windowNoteOf,
  type TemplateContent,
} from '../../src/domain/window.js';

const now = new Date('2026-12-03T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const TEMPLATE: TemplateContent = {
  type: 'template',
  templateId: 'HX0123456789abcdef0123456789abcdef',
  variables: { '1': 'there' },
};

describe('serviceWindow', () => {
  it.each([
    ['twilio', hoursAgo(1), { open: true, closesAt: new Date('2026-12-04T11:00:00Z') }],
    ['twilio', hoursAgo(23.99), { open: true, closesAt: new Date(hoursAgo(23.99).getTime() + 86_400_000) }],
    ['twilio', hoursAgo(24), { open: false, closesAt: now }],
    ['twilio', hoursAgo(25), { open: false, closesAt: new Date('2026-12-03T11:00:00Z') }],
    ['meta', hoursAgo(30), { open: false, closesAt: new Date('2026-12-03T06:00:00Z') }],
    ['twilio', null, { open: false, closesAt: null }],
    ['simulator', hoursAgo(100), { open: true, closesAt: null }],
    ['simulator', null, { open: true, closesAt: null }],
  ] as const)('%s, last inbound %s → %j', (channel, lastInbound, expected) => {
    expect(serviceWindow(channel, lastInbound, now)).toEqual(expected);
  });
});

describe('applyWindow', () => {
  const open = { open: true, closesAt: now };
  const closed = { open: false, closesAt: hoursAgo(1) };
  const text: OutboundContent = { type: 'text', text: 'Your order shipped' };
  const media: OutboundContent = {
    type: 'media',
    items: [{ kind: 'image', contentType: 'image/png', reference: 'https://example.com/a.png' }],
    caption: 'the receipt',
  };
  const reaction: OutboundContent = { type: 'reaction', emoji: '👍', targetProviderMessageId: 'SM1' };
  const otherTemplate: OutboundContent = { ...TEMPLATE, templateId: 'HXffffffffffffffffffffffffffffffff' };

  it.each([
    ['text, window open', text, open, TEMPLATE, { kind: 'send', content: text }],
    ['text, window open, no template', text, open, undefined, { kind: 'send', content: text }],
    [
      'text, window closed',
      text,
      closed,
      TEMPLATE,
      {
        kind: 'send',
        content: TEMPLATE,
        note: { reason: 'outside_window', replaced: 'text', text: 'Your order shipped' },
      },
    ],
    [
      'media, window closed',
      media,
      closed,
      TEMPLATE,
      {
        kind: 'send',
        content: TEMPLATE,
        note: { reason: 'outside_window', replaced: 'media', text: 'the receipt' },
      },
    ],
    ['text, window closed, no template', text, closed, undefined, { kind: 'refuse' }],
    ['media, window closed, no template', media, closed, undefined, { kind: 'refuse' }],
    ['a template, window closed', otherTemplate, closed, undefined, { kind: 'send', content: otherTemplate }],
    ['a reaction, window closed', reaction, closed, undefined, { kind: 'send', content: reaction }],
  ] as const)('%s', (_name, content, window, template, expected) => {
    expect(applyWindow(content, window, template)).toEqual(expected);
  });
});

describe('isWindowFailure', () => {
  it.each([
    ['63016', true],
    ['131047', true],
    ['21610', false],
    ['63049', false],
    [null, false],
    [undefined, false],
  ] as const)('%s → %s', (code, expected) => {
    expect(isWindowFailure(code)).toBe(expected);
  });
});

describe('windowNoteOf', () => {
  it('reads a stored note back, and nothing else', () => {
    const note = { reason: 'window_failure', failedMessageId: 'm1', errorCode: '63016' };
    expect(windowNoteOf({ window: note })).toEqual(note);
    expect(windowNoteOf({ window: { reason: 'other' } })).toBeNull();
    expect(windowNoteOf({ window: null })).toBeNull();
    expect(windowNoteOf({})).toBeNull();
    expect(windowNoteOf(null)).toBeNull();
  });
});
