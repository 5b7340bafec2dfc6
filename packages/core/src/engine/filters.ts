import type { ExplorationMode } from '../model/job';
import { countWords } from './normalize';

/**
 * Cheap heuristic filters, run on every candidate before dedup (and before a
 * critic): they catch what a model writes around or instead of an input.
 * Leftover numbering and quotes are stripped by the parser, not rejected here.
 *
 * | filter | rejects |
 * |---|---|
 * | empty | nothing left once punctuation and whitespace are gone |
 * | meta | the model talking about the task: "As an AI...", "Here are 5 inputs", "Sure! ...:" |
 * | refusal | "I'm sorry, but I can't ..." as the whole candidate |
 * | length | far outside the seeds' length range (in words), by a factor that widens with the mode |
 */
export type FilterVerdict = { ok: true } | { ok: false; reason: 'empty' | 'meta' | 'refusal' | 'length'; detail: string };

export interface LengthRange {
  minWords: number;
  maxWords: number;
}

/** How far outside the seeds' length range a candidate may go, per mode. */
export const LENGTH_TOLERANCE: Record<ExplorationMode, number> = {
  CONSERVATIVE: 3,
  BALANCED: 4,
  CREATIVE: 6,
  ADVENTUROUS: 10,
};

const META =
  /^\s*(?:as an ai\b|as a (?:large )?language model\b|here (?:are|is) (?:\d+|some|a few|the|your|an?)\b.{0,40}\b(?:inputs?|examples?|prompts?|requests?|questions?)\b|(?:sure|certainly|of course|absolutely)[!,.]\s.{0,80}:\s*$|(?:new|generated) (?:inputs?|examples?)\s*:)/i;
const REFUSAL = /^\s*(?:i['’]?m sorry|i am sorry|sorry, (?:but )?i|i can(?:no|['’])t (?:help|assist|write|create|do)|i cannot (?:help|assist|write|create|do)|i (?:won['’]?t|will not) (?:help|write|create))/i;

export function lengthRange(seeds: readonly string[]): LengthRange | null {
  if (seeds.length === 0) return null;
  let minWords = Infinity;
  let maxWords = 0;
  for (const seed of seeds) {
    const n = countWords(seed);
    minWords = Math.min(minWords, n);
    maxWords = Math.max(maxWords, n);
  }
  return { minWords, maxWords };
}

export function filterCandidate(text: string, range: LengthRange | null, mode: ExplorationMode): FilterVerdict {
  const words = countWords(text);
  if (words === 0) return { ok: false, reason: 'empty', detail: 'nothing but punctuation' };
  if (META.test(text)) return { ok: false, reason: 'meta', detail: 'the model talking about the task, not an input' };
  if (REFUSAL.test(text)) return { ok: false, reason: 'refusal', detail: 'a refusal, not an input' };
  if (range !== null) {
    const tolerance = LENGTH_TOLERANCE[mode];
    const low = Math.floor(range.minWords / tolerance);
    const high = Math.ceil(range.maxWords * tolerance) + 5; // short seeds: leave room for a longer request
    if (words < low) return { ok: false, reason: 'length', detail: `${words} words, the seeds have ${range.minWords} to ${range.maxWords}` };
    if (words > high) return { ok: false, reason: 'length', detail: `${words} words, the seeds have ${range.minWords} to ${range.maxWords}` };
  }
  return { ok: true };
}
