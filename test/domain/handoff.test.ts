import { describe, expect, it } from 'vitest';
import { handoffKeywordMatcher, words } from '../../src/domain/handoff-keywords.js';
import { handoffNotice } from '../../src/domain/handoff-notice.js';
import { handoffRequest } from '../../src/domain/handoff-tool.js';

const DEFAULTS = [
  'human',
  'agent',
  'person',
  'operator',
  'humano',
  'agente',
  'persona',
  'atendente',
  'pessoa',
];

describe('handoff keywords', () => {
  const match = handoffKeywordMatcher([...DEFAULTS, 'real person', 'Atención al cliente']);

  it.each([
    ['I want to talk to a human', 'human'],
    ['HUMAN!!!', 'human'],
    ['quiero hablar con un HUMANÓ', 'humano'],
    ['Quero falar com uma pessoa, por favor', 'pessoa'],
    ['agent?', 'agent'],
    ['¿un agente?', 'agente'],
    ['a real   person please', 'person'],
    ['necesito atencion al cliente', 'Atención al cliente'],
    ['(operator)', 'operator'],
  ])('%j asks for a person (%s)', (text, keyword) => {
    expect(match(text)).toBe(keyword);
  });

  it.each([
    'humanity is great',
    'the agency called',
    'personally I think so',
    'read the operators manual',
    'atención',
    '',
  ])('%j does not', (text) => {
    expect(match(text)).toBeNull();
  });

  it('a phrase keyword matches only its words in order, consecutive', () => {
    const phrase = handoffKeywordMatcher(['real person']);
    expect(phrase('I need a REAL-person')).toBe('real person');
    expect(phrase('a person who is real')).toBeNull();
    expect(phrase('real, actual person')).toBeNull();
  });

  it('no keywords configured: nothing matches', () => {
    expect(handoffKeywordMatcher([])('human')).toBeNull();
    expect(handoffKeywordMatcher(['  ', '!!'])('human !!')).toBeNull();
  });

  it('words: accents stripped after NFD, lower case, split on anything but letters and digits', () => {
    expect(words('Ça VA? Ünïcödé 42-x')).toEqual(['ca', 'va', 'unicode', '42', 'x']);
  });
});

describe('the handoff tool call', () => {
  it('reads the reason, squeezed and cut to 200 characters', () => {
    expect(
      handoffRequest([{ id: '1', name: 'handoff', arguments: { reason: '  angry\n customer ' } }]),
    ).toEqual({
      reason: 'angry customer',
    });
    expect(
      handoffRequest([{ id: '1', name: 'handoff', arguments: { reason: 'x'.repeat(500) } }])?.reason,
    ).toHaveLength(200);
  });

  it('a call without a usable reason still hands off; other tools or none do not', () => {
    expect(handoffRequest([{ id: '1', name: 'handoff', arguments: { reason: 42 } }])).toEqual({
      reason: 'no reason given',
    });
    expect(handoffRequest([{ id: '1', name: 'lookup_order', arguments: {} }])).toBeNull();
    expect(handoffRequest(undefined)).toBeNull();
  });
});

describe('the operators notice', () => {
  const event = {
    conversationId: 'c0ffee00-0000-4000-8000-000000000001',
    profileName: 'Ada',
    userAddress: 'whatsapp:+15551234567',
    reason: 'model: refund over the limit',
    actorName: 'model',
  };

  it('names the user, the reason and links to the conversation in the admin', () => {
    const notice = handoffNotice(event, 'https://bot.example.com');
    expect(notice.subject).toBe('Conversation needs a human: Ada (whatsapp:+15551234567)');
    expect(notice.text).toContain('reason: the model handed it over (refund over the limit)');
    expect(notice.text).toContain(`https://bot.example.com/admin/conversations/${event.conversationId}`);
  });

  it('without PUBLIC_BASE_URL: no link, the id instead; without a profile name: the address', () => {
    const notice = handoffNotice({ ...event, profileName: null, reason: 'keyword' }, undefined);
    expect(notice.subject).toBe('Conversation needs a human: whatsapp:+15551234567');
    expect(notice.text).toContain('the user asked for a person');
    expect(notice.text).not.toContain('http');
    expect(notice.text).toContain(event.conversationId);
  });
});
