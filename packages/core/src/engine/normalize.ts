/**
 * Text normalisation for duplicate detection: Unicode compatibility forms,
 * case, whitespace, punctuation and symbols, and invisible format characters
 * do not make two inputs different.
 */

/** What separates words: whitespace, punctuation and symbols. One pass replaces them all (twice as fast as one pass each). */
const SEPARATORS = /[\s\p{P}\p{S}]+/gu;
/**
 * Invisible format characters (general category Cf): zero-width space,
 * joiner and non-joiner, soft hyphen, word joiner, bidi marks and
 * embeddings, BOM, tags. They are removed, not turned into a space, so
 * "hel\u200Blo" is "hello", not "hel lo". None is ASCII, NFKC neither makes
 * nor changes one, and only U+FEFF is also whitespace (`\s`).
 */
const FORMAT = /\p{Cf}+/gu;
const NON_ASCII = /[\u0080-\uffff]/;
/**
 * A word for countWords: starts with a character that is neither a separator
 * nor Cf, and runs on over Cf, as normalizeText joins it. The separators are
 * SEPARATORS' with `\s` spelt out ([\t-\r\p{Z}] is `\s` without U+FEFF, which
 * is Cf here). No nested quantifier: one linear pass however many Cf.
 */
const WORD = /[^\t-\r\p{Z}\p{P}\p{S}\p{Cf}][^\t-\r\p{Z}\p{P}\p{S}]*/gu;

/** The canonical form two inputs must share to be exact duplicates. */
export function normalizeText(text: string): string {
  // ASCII text has no Cf and is its own NFKC: it skips both passes. Cf goes
  // before NFKC, so a mark it separated from its letter still composes.
  const folded = NON_ASCII.test(text) ? text.replace(FORMAT, '').normalize('NFKC') : text;
  return folded.toLowerCase().replace(SEPARATORS, ' ').trim();
}

/**
 * How many words `text` has, without building its normal form: what
 * `tokenize(text).length` answers, except for the rare characters that NFKC
 * turns into a separator or out of one. For length checks, three times cheaper.
 */
export function countWords(text: string): number {
  return text.match(WORD)?.length ?? 0;
}

/** Words of the normalised text, in order. */
export function tokenize(text: string): string[] {
  const normalized = normalizeText(text);
  return normalized === '' ? [] : normalized.split(' ');
}

/** Common English function words: left out of MinHash shingles so unrelated inputs rarely collide. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then else of to in on at by for with from as into about over under ' +
    'is are was were be been being am do does did have has had i you he she it we they me him her us them ' +
    'my your his its our their this that these those there here what which who whom whose when where why how ' +
    'not no so than too very can could should would will shall may might must just also all any some'
  ).split(' '),
);
