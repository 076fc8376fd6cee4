/** Whole-message consent keywords: case, accents, surrounding punctuation ignored; never inside a sentence. */
import { describe, expect, it } from 'vitest';
import { CONSENT_DEFAULTS, consentMatcher, normalizeWhole } from '../../src/domain/opt-out.js';

const match = consentMatcher(CONSENT_DEFAULTS);

describe('consentMatcher with the defaults', () => {
  it.each([
    ['STOP', 'opt_out', 'STOP'],
    ['stop', 'opt_out', 'STOP'],
    ['Stop.', 'opt_out', 'STOP'],
    ['  parar ', 'opt_out', 'PARAR'],
    ['CANCELÁR', 'opt_out', 'CANCELAR'],
    ['¡Baja!', 'opt_out', 'BAJA'],
    ['"unsubscribe"', 'opt_out', 'UNSUBSCRIBE'],
    ['Start', 'opt_in', 'START'],
    ['yes!', 'opt_in', 'YES'],
    ['iniciar', 'opt_in', 'INICIAR'],
    ['help?', 'help', 'HELP'],
    ['Ajuda', 'help', 'AJUDA'],
  ])('%j asks for %s', (text, action, keyword) => {
    expect(match(text)).toEqual({ action, keyword });
  });

  it.each(['stop please', 'please stop', 'STOP STOP', 'stopped', 'I need help', 'yes please', '', '...'])(
    '%j is an ordinary message',
    (text) => {
      expect(match(text)).toBeNull();
    },
  );

  it('an opt-out word also listed as an opt-in word still opts out', () => {
    const both = consentMatcher({ ...CONSENT_DEFAULTS, optInKeywords: ['stop', 'start'] });
    expect(both('stop')?.action).toBe('opt_out');
    expect(both('start')?.action).toBe('opt_in');
  });

  it('empty lists match nothing', () => {
    const none = consentMatcher({
      ...CONSENT_DEFAULTS,
      optOutKeywords: [],
      optInKeywords: [],
      helpKeywords: [],
    });
    expect(none('STOP')).toBeNull();
  });
});

describe('normalizeWhole', () => {
  it('drops accents, case and the punctuation around, keeps what is inside', () => {
    expect(normalizeWhole(' ¿Cancelár, ya? ')).toBe('cancelar, ya');
  });
});
