/**
 * Finding typed details in a text: a lexicon built from the word lists, the
 * slots (position and kind) of the details a text holds, the ones a job
 * already uses, and other numbers to put in place of a number.
 */

import type { Random } from '../../engine/random';
import { pick } from './choice';
import type { KitName } from './kits';
import { baseForm, inflect, splitWords, type Word } from './text';
import { NUMBER_CLASS, WORD_CLASSES } from './words';

interface LexiconEntry {
  /** Lower-cased words to match: the `after` words, then the member's. */
  words: string[];
  /** How many of `words` belong to the `after` context (kept when replacing). */
  contextWords: number;
  kind: number;
  member: string;
  plural: boolean;
}

/** Entries by their first word, longest first, so "bedtime story" wins over "story". */
export const LEXICON: Map<string, LexiconEntry[]> = (() => {
  const byFirst = new Map<string, LexiconEntry[]>();
  WORD_CLASSES.forEach((wordClass, kind) => {
    for (const spec of wordClass.members) {
      const forms: Array<[string, boolean]> = [[baseForm(spec), false]];
      if (wordClass.nouns === true) forms.push([inflect(spec, true), true]);
      for (const context of wordClass.after ?? ['']) {
        const contextWords = splitWords(context).map((w) => w.text.toLowerCase());
        for (const [form, plural] of forms) {
          const words = [...contextWords, ...splitWords(form).map((w) => w.text.toLowerCase())];
          const entry: LexiconEntry = { words, contextWords: contextWords.length, kind, member: spec, plural };
          const bucket = byFirst.get(words[0]!);
          if (bucket === undefined) byFirst.set(words[0]!, [entry]);
          else bucket.push(entry);
        }
      }
    }
  });
  for (const bucket of byFirst.values()) bucket.sort((a, b) => b.words.length - a.words.length);
  return byFirst;
})();

/** A detail found in a text: where it is and what kind it is. */
export interface Slot {
  start: number;
  end: number;
  kind: number;
  member: string;
  plural: boolean;
}

export function findSlots(text: string, kit: KitName): Slot[] {
  const words = splitWords(text);
  const slots: Slot[] = [];
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (/^\d+$/.test(word.text)) {
      slots.push({ start: word.start, end: word.end, kind: NUMBER_CLASS, member: word.text, plural: false });
      i++;
      continue;
    }
    const entry = LEXICON.get(word.text.toLowerCase())?.find((e) => entryMatches(e, words, i, kit));
    if (entry === undefined) {
      i++;
      continue;
    }
    const first = words[i + entry.contextWords]!;
    const last = words[i + entry.words.length - 1]!;
    slots.push({ start: first.start, end: last.end, kind: entry.kind, member: entry.member, plural: entry.plural });
    i += entry.words.length;
  }
  return slots;
}

function entryMatches(entry: LexiconEntry, words: Word[], at: number, kit: KitName): boolean {
  const wordClass = WORD_CLASSES[entry.kind]!;
  if (wordClass.kits !== undefined && !wordClass.kits.includes(kit)) return false;
  if (wordClass.atStart === true && at !== 0) return false;
  if (at + entry.words.length > words.length) return false;
  for (let k = 0; k < entry.words.length; k++) {
    if (words[at + k]!.text.toLowerCase() !== entry.words[k]) return false;
  }
  if (wordClass.proper === true && !/^\p{Lu}/u.test(words[at + entry.contextWords]!.text)) return false;
  return true;
}

/** Members of each kind that the description and the examples already use. */
export function collectDomainWords(texts: string[], kit: KitName): Map<number, string[]> {
  const found = new Map<number, Set<string>>();
  for (const text of texts) {
    for (const slot of findSlots(text, kit)) {
      if (slot.kind === NUMBER_CLASS) continue;
      let members = found.get(slot.kind);
      if (members === undefined) found.set(slot.kind, (members = new Set()));
      members.add(slot.member);
    }
  }
  return new Map([...found].map(([kind, members]) => [kind, [...members]]));
}

export function otherNumber(text: string, random: Random): string {
  const n = Number(text);
  if (n >= 1900 && n <= 2100) return String(n + pick([-3, -2, -1, 1, 2], random)); // a year
  if (n <= 12) return String(pick([2, 3, 4, 5, 6, 7, 8, 10, 12].filter((m) => m !== n), random));
  const factor = pick([0.25, 0.5, 0.75, 1.5, 2, 3], random);
  const scaled = Math.max(1, Math.round(n * factor));
  const step = scaled >= 100 ? 50 : scaled >= 20 ? 5 : 1; // keep numbers round, as people write them
  const rounded = Math.max(step, Math.round(scaled / step) * step);
  return String(rounded === n ? n + step : rounded);
}
