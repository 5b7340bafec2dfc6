import { countWords, normalizeText, tokenize } from '@datagen/core';

describe('normalizeText', () => {
  it('folds case, punctuation and whitespace', () => {
    expect(normalizeText('  Hello,   World!! ')).toBe('hello world');
    expect(normalizeText('Ｈｅｌｌｏ world')).toBe('hello world');
    expect(tokenize('Tell me — a story.')).toEqual(['tell', 'me', 'a', 'story']);
  });

  it('turns any run of whitespace, punctuation and symbols into one space', () => {
    expect(normalizeText('a , \t; b\n\n—c… “d” ¿e? 5€ f&g')).toBe('a b c d e 5 f g');
    expect(normalizeText('...!?')).toBe('');
    expect(normalizeText('')).toBe('');
  });
});

describe('countWords', () => {
  it.each([
    'Write a short story, for children aged 7, about a brave little turtle who learns to share "his" toys & snacks!',
    'Tell me — a story.',
    '  Héllo,   wörld!! — “quoted” ¿qué?  ',
    'tab\there\nnew  line',
    'Ｈｅｌｌｏ ｗｏｒｌｄ',
    '...',
    '',
  ])('counts the words tokenize finds in %j', (text) => {
    expect(countWords(text)).toBe(tokenize(text).length);
  });
});
