/**
 * Small text helpers of the offline generator: comma lists, words with their
 * positions, inline constraints, articles, and the forms of a word-list member.
 */

/** The items of a comma-separated list, trimmed. */
export const list = (s: string): string[] =>
  s
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A word of a text and where it is. */
export interface Word {
  text: string;
  start: number;
  end: number;
}

/** The words of a text (letters and digits, with an apostrophe ending: "kid's"), with their positions. */
export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}]+(?:['’]\p{L}+)?/gu)) {
    words.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  }
  return words;
}

/** Puts a short constraint before the request's final punctuation. */
export function withInline(request: string, inline: string): string {
  const match = /[.?!]+$/.exec(request);
  return match === null ? request + inline : request.slice(0, match.index) + inline + match[0];
}

/** Fixes the articles substitutions may have broken ("a owl") and stray spaces. */
export function tidy(text: string): string {
  return text
    .replace(/\b(a|an|A|An) ([\p{L}\p{N}]+)/gu, (_m, article: string, word: string) => {
      const an = needsAn(word);
      const fixed = an ? 'an' : 'a';
      return `${article[0] === 'A' ? upperFirst(fixed) : fixed} ${word}`;
    })
    .replace(/\s+([,.?!])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function needsAn(word: string): boolean {
  const w = word.toLowerCase();
  if (/^(hour|honest|heir)/.test(w)) return true;
  if (/^(uni|use|usu|one|once|eu|ur)/.test(w)) return false;
  if (/^\d/.test(w)) return /^(8|11|18)(\D|$)/.test(w);
  return /^[aeiou]/.test(w);
}

/** The singular display form of a member spec ("mouse|mice" -> "mouse"). */
export function baseForm(spec: string): string {
  return spec.split('|')[0]!;
}

/** A member in the singular or plural; the plural is the spec's own or made by rule. */
export function inflect(spec: string, plural: boolean): string {
  const [singular, irregular] = spec.split('|') as [string, string | undefined];
  if (!plural) return singular;
  if (irregular !== undefined) return irregular;
  if (/[^aeiou]y$/.test(singular)) return `${singular.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(singular)) return `${singular}es`;
  return `${singular}s`;
}

export function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function lowerFirst(s: string): string {
  // Keep "I" and acronyms ("SQL") as they are.
  return /^(I\b|\p{Lu}{2})/u.test(s) ? s : s.charAt(0).toLowerCase() + s.slice(1);
}
