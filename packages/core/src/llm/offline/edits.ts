/**
 * Edits beyond substitution: recombining two requests at a shared pivot word,
 * and the terse and casual voices of the ADVENTUROUS edge cases.
 */

import type { Random } from '../../engine/random';
import { pick } from './choice';
import { list, splitWords } from './text';

// Recombination: head of one request + tail of another, at the same pivot word.
// Only "about ..." and relative clauses: they split a request where its parts are
// whole (what it is about, what happens to it). Prepositions split it anywhere,
// and different relative words attach to different things ("a fox who" / "a story where").

const PIVOTS: ReadonlySet<string> = new Set(list('about, featuring, who, that, where, whose'));

/** Each pivot word's first position in a one-sentence text (after its first two words). */
function pivotsOf(text: string): Map<string, number> {
  const found = new Map<string, number>();
  if (/[.?!]\s+\S/.test(text)) return found; // several sentences: no clean place to cut
  const words = splitWords(text);
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!.text.toLowerCase();
    if (PIVOTS.has(word) && !found.has(word)) found.set(word, words[i]!.start);
  }
  return found;
}

/** `head`'s words up to a pivot, then `tail`'s from the same pivot; null when they share none. */
export function splice(head: string, tail: string, random: Random): string | null {
  const headPivots = pivotsOf(head);
  const tailPivots = pivotsOf(tail);
  const shared = [...headPivots.keys()].filter((pivot) => tailPivots.has(pivot));
  if (shared.length === 0) return null;
  const pivot = pick(shared, random);
  const joined = `${head.slice(0, headPivots.get(pivot)!).trimEnd()} ${tail.slice(tailPivots.get(pivot)!)}`;
  // The sentence keeps the mood of its head: a question stays a question.
  const isQuestion = /^(which|what|how|who|when|where|why|can|could|is|are|do|does|did|should|would|will)\b/i.test(head);
  return joined.replace(/[.?!]*\s*$/, isQuestion ? '?' : '.');
}

// Voices of the ADVENTUROUS edge cases.

/** A clipped request, as typed in a hurry: no articles, no final punctuation. */
export function terse(request: string, random: Random): string {
  const firstSentence = request.split(/(?<=[.!?])\s+/)[0] ?? request;
  const clause = firstSentence.split(',')[0] ?? firstSentence;
  const words = clause
    .replace(/[.?!]+$/, '')
    .split(/\s+/)
    .filter((w) => !/^(a|an|the|please|me|can|could|you)$/i.test(w));
  return words.join(' ').toLowerCase() + pick(['', ' pls', ' asap', '??', ' - short', ' thx', ' quick'], random);
}

/** Lower case, texting shorthand and one slip of the finger. */
export function casual(text: string, random: Random): string {
  let out = text
    .toLowerCase()
    .replace(/\byou\b/g, 'u')
    .replace(/\bplease\b/g, 'pls')
    .replace(/\bi'm\b/g, 'im')
    .replace(/\.$/, '');
  const longWords = [...out.matchAll(/\b[a-z]{6,}\b/g)];
  if (longWords.length > 0) {
    const word = pick(longWords, random);
    const at = word.index + 2;
    out = out.slice(0, at) + out[at + 1] + out[at] + out.slice(at + 2);
  }
  return out;
}
