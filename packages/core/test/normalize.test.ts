import { normalizeText, tokenize } from '@datagen/core';

describe('normalizeText', () => {
  it('folds case, punctuation and whitespace', () => {
    expect(normalizeText('  Hello,   World!! ')).toBe('hello world');
    expect(normalizeText('Ｈｅｌｌｏ world')).toBe('hello world');
    expect(tokenize('Tell me — a story.')).toEqual(['tell', 'me', 'a', 'story']);
  });
});
