import { STOPWORDS, type Random } from '@datagen/core';

/**
 * Deterministic synthetic text for dedup tests: pseudo-words built from
 * syllables, so a large vocabulary exists and two unrelated sentences share
 * almost nothing but a few function words.
 */

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'cl', 'dr', 'fl', 'gr', 'pl', 'st', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou'];
const CODAS = ['', 'n', 'r', 's', 'l', 'm', 'x', 'nd', 'rt'];
const FUNCTION_WORDS = ['the', 'a', 'of', 'to', 'and', 'in', 'for', 'with', 'my', 'is'];

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)]!;
}

/** `size` distinct pseudo-words of two or three syllables, none of them a stopword. */
export function makeVocabulary(size: number, random: Random): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 2);
    let word = '';
    for (let i = 0; i < syllables; i++) word += pick(ONSETS, random) + pick(VOWELS, random) + pick(CODAS, random);
    if (!STOPWORDS.has(word)) words.add(word);
  }
  return [...words];
}

/** A sentence of `length` words: mostly vocabulary words, about one in five a function word. */
export function makeSentence(vocabulary: readonly string[], length: number, random: Random): string {
  const words: string[] = [];
  for (let i = 0; i < length; i++) words.push(random() < 0.2 ? pick(FUNCTION_WORDS, random) : pick(vocabulary, random));
  const first = words[0]!;
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  return `${words.join(' ')}${random() < 0.3 ? '?' : '.'}`;
}

/** A copy of `sentence` with `changes` distinct word positions replaced by other vocabulary words. */
export function mutateSentence(sentence: string, changes: number, vocabulary: readonly string[], random: Random): string {
  const body = sentence.slice(0, -1);
  const end = sentence.slice(-1);
  const words = body.split(' ');
  const present = new Set(words.map((w) => w.toLowerCase()));
  const positions = new Set<number>();
  while (positions.size < Math.min(changes, words.length)) positions.add(Math.floor(random() * words.length));
  for (const position of positions) {
    let replacement = pick(vocabulary, random);
    while (present.has(replacement)) replacement = pick(vocabulary, random);
    present.add(replacement);
    words[position] = replacement;
  }
  return `${words.join(' ')}${end}`;
}
