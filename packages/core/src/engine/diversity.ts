import { gzipSync } from 'node:zlib';
import { tokenize } from './normalize';
import { seededRandom, type Random } from './random';
import { rougeLF1 } from './similarity';

/**
 * Diversity of a set of inputs, the measures `npm run eval` and a job's report
 * share: distinct-n (share of unique n-grams), mean pairwise ROUGE-L
 * (sampled above a size), and compression ratio (how much gzip shrinks the
 * set: repetitive sets compress more).
 */
export interface Diversity {
  distinct1: number;
  distinct2: number;
  meanPairwiseSimilarity: number;
  compressionRatio: number;
}

/** Pairs compared at most; beyond it, pairs are sampled. */
export const MAX_PAIRS = 5_000;

export function measureDiversity(inputs: readonly string[], random: Random = seededRandom(1)): Diversity {
  const tokenized = encode(inputs.map(tokenize));
  return {
    distinct1: distinctN(tokenized, 1),
    distinct2: distinctN(tokenized, 2),
    meanPairwiseSimilarity: meanPairwiseSimilarity(tokenized, random),
    compressionRatio: compressionRatio(inputs),
  };
}

/** Unique n-grams over all n-grams of the set (0 when there are none). */
export function distinctN(tokenized: readonly Int32Array[], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const tokens of tokenized) {
    for (let i = 0; i + n <= tokens.length; i++) {
      seen.add(n === 1 ? String(tokens[i]) : Array.prototype.join.call(tokens.subarray(i, i + n), ' '));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** Mean ROUGE-L F1 over all pairs, or over MAX_PAIRS random pairs of a larger set. */
export function meanPairwiseSimilarity(tokenized: readonly Int32Array[], random: Random): number {
  const n = tokenized.length;
  if (n < 2) return 0;
  const allPairs = (n * (n - 1)) / 2;
  let sum = 0;
  let count = 0;
  if (allPairs <= MAX_PAIRS) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++, count++) sum += rougeLF1(tokenized[i]!, tokenized[j]!);
  } else {
    for (; count < MAX_PAIRS; count++) {
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      sum += rougeLF1(tokenized[i]!, tokenized[j]!);
    }
  }
  return sum / count;
}

/** Original size over gzip size of the newline-joined set (higher means more repetitive). */
export function compressionRatio(inputs: readonly string[]): number {
  const text = Buffer.from(inputs.join('\n'));
  if (text.length === 0) return 0;
  return text.length / gzipSync(text, { level: 9 }).length;
}

/** Token ids shared across the set, so similarity compares numbers. */
function encode(tokenLists: string[][]): Int32Array[] {
  const ids = new Map<string, number>();
  return tokenLists.map((tokens) =>
    Int32Array.from(tokens, (t) => {
      let id = ids.get(t);
      if (id === undefined) ids.set(t, (id = ids.size));
      return id;
    }),
  );
}
