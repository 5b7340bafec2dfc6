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

/** Invisible format characters (category Cf), by name, for the tests below. */
const INVISIBLE: Array<[string, string]> = [
  ['zero-width space U+200B', '\u200B'],
  ['zero-width non-joiner U+200C', '\u200C'],
  ['zero-width joiner U+200D', '\u200D'],
  ['soft hyphen U+00AD', '\u00AD'],
  ['word joiner U+2060', '\u2060'],
  ['left-to-right mark U+200E', '\u200E'],
  ['right-to-left mark U+200F', '\u200F'],
  ['byte order mark U+FEFF', '\uFEFF'],
  ['right-to-left override U+202E', '\u202E'],
  ['first strong isolate U+2068', '\u2068'],
  ['invisible times U+2062', '\u2062'],
  ['Mongolian vowel separator U+180E', '\u180E'],
  ['tag letter A U+E0041 (astral)', '\u{E0041}'],
];

describe('normalizeText: invisible format characters (Cf)', () => {
  it('removes them inside words, joining the word', () => {
    expect(normalizeText('hel\u200Blo wor\u00ADld')).toBe('hello world');
    expect(normalizeText('hel\u200Blo wor\u00ADld')).toBe(normalizeText('hello world'));
    expect(tokenize('re\uFEFFset my pass\u2060word')).toEqual(['reset', 'my', 'password']);
  });

  it.each(INVISIBLE)('folds the %s', (_name, c) => {
    expect(normalizeText(`Pass${c}word${c} re${c}${c}set,${c} now`)).toBe('password reset now');
    expect(tokenize(`${c}pass${c}word${c}`)).toEqual(['password']);
  });

  it('leaves nothing of a text made of them alone', () => {
    expect(normalizeText('\u200B\u200D\uFEFF \u00AD')).toBe('');
    expect(tokenize('\u2060')).toEqual([]);
  });

  it('removes them before NFKC, so a mark they separate from its letter still composes', () => {
    expect(normalizeText('cafe\u200B\u0301')).toBe(normalizeText('café'));
    expect(normalizeText('Ｈｅ\u200Bｌｌｏ')).toBe('hello');
  });

  it('keeps the visible characters of non-ASCII text', () => {
    expect(normalizeText('Naïve Straße — ¿qué?')).toBe('naïve straße qué');
    expect(tokenize('日本語 テキスト')).toEqual(['日本語', 'テキスト']);
  });
});

describe('countWords with invisible format characters', () => {
  it.each([
    'hel\u200Blo wor\u00ADld',
    'pass\uFEFFword',
    '\u200B',
    '\u200B \u200D',
    'a \u200B b',
    'x\u200B.\u200By',
    '\u2066quoted\u2069 text\u200E',
    '\u{E0041}tag\u{E0042}ged',
    ...INVISIBLE.map(([, c]) => `re${c}set my${c} pass${c}word ${c} now`),
  ])('counts the words tokenize finds in %j', (text) => {
    expect(countWords(text)).toBe(tokenize(text).length);
  });

  it('counts a word broken by them as one word', () => {
    expect(countWords('hel\u200Blo wor\u00ADld')).toBe(2);
    expect(countWords('pass\uFEFFword')).toBe(1);
    expect(countWords('\u200B\u2060')).toBe(0);
  });
});
