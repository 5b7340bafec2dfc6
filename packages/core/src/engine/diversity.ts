import { gzipSync } from 'node:zlib';
import type { Diversity } from '../model/job';
import { tokenize } from './normalize';
import { seededRandom, type Random } from './random';
import { rougeLF1 } from './similarity';

/**
 * Diversity of a set of inputs, the measures `npm run eval` and a job's report
 * share: distinct-n (share of unique n-grams), mean pairwise ROUGE-L
 * (sampled above a size), and compression ratio (how much gzip shrinks the
 * set: repetitive sets compress more).
 */

/** Pairs compared at most; beyond it, pairs are sampled. */
export const MAX_PAIRS = 5_000;

export function measureDiversity(inputs: readonly string[], random: Random = seededRandom(1)): Diversity {
  const tokens = encode(inputs);
  return {
    distinct1: distinct(tokens, 1),
    distinct2: distinct(tokens, 2),
    meanPairwiseSimilarity: meanSimilarity(tokens, random),
    compressionRatio: compressionRatio(inputs),
  };
}

/**
 * The token ids of a set of inputs, back to back in one array (input i is
 * `pool[offsets[i]]` up to `pool[offsets[i + 1]]`): one allocation for the
 * whole set instead of one typed array per input, which at 100,000 inputs
 * was most of the memory a job's report took.
 */
interface TokenPool {
  pool: Int32Array;
  offsets: Int32Array;
  /** One more than the largest token id. */
  vocabulary: number;
}

/** Unique n-grams over all n-grams of the set (0 when there are none). */
export function distinctN(tokenized: readonly Int32Array[], n: number): number {
  return distinct(pack(tokenized), n);
}

/** Mean ROUGE-L F1 over all pairs, or over MAX_PAIRS random pairs of a larger set. */
export function meanPairwiseSimilarity(tokenized: readonly Int32Array[], random: Random): number {
  return meanSimilarity(pack(tokenized), random);
}

/**
 * distinctN: each n-gram becomes one number (exact while vocabulary^n stays
 * below 2^53, a 53-bit hash beyond), and the numbers are sorted and counted
 * in a typed array, 8 bytes an n-gram (a Set of n-gram strings took hundreds
 * of MB at 100,000 inputs).
 */
function distinct({ pool, offsets, vocabulary }: TokenPool, n: number): number {
  const inputs = offsets.length - 1;
  let total = 0;
  for (let k = 0; k < inputs; k++) total += Math.max(0, offsets[k + 1]! - offsets[k]! - n + 1);
  if (total === 0) return 0;
  if (n === 1) {
    const seen = new Uint8Array(vocabulary);
    let count = 0;
    for (let i = 0; i < offsets[inputs]!; i++) {
      if (seen[pool[i]!] === 0) {
        seen[pool[i]!] = 1;
        count++;
      }
    }
    return count / total;
  }
  const exact = Math.pow(vocabulary, n) <= Number.MAX_SAFE_INTEGER;
  const codes = new Float64Array(total);
  let at = 0;
  for (let k = 0; k < inputs; k++) {
    const end = offsets[k + 1]!;
    for (let i = offsets[k]!; i + n <= end; i++) {
      if (exact) {
        let code = 0;
        for (let j = 0; j < n; j++) code = code * vocabulary + pool[i + j]!;
        codes[at++] = code;
      } else {
        let h1 = 0x811c9dc5;
        let h2 = 0x9747b28c;
        for (let j = 0; j < n; j++) {
          h1 = Math.imul(h1 ^ pool[i + j]!, 0x01000193);
          h2 = Math.imul(h2 ^ pool[i + j]!, 0x5bd1e995);
          h2 ^= h2 >>> 15;
        }
        codes[at++] = (h1 >>> 0) * 2 ** 21 + ((h2 >>> 0) >>> 11);
      }
    }
  }
  codes.sort();
  let count = 1;
  for (let i = 1; i < total; i++) if (codes[i] !== codes[i - 1]) count++;
  return count / total;
}

function meanSimilarity({ pool, offsets }: TokenPool, random: Random): number {
  const n = offsets.length - 1;
  if (n < 2) return 0;
  const item = (i: number) => pool.subarray(offsets[i]!, offsets[i + 1]!);
  const allPairs = (n * (n - 1)) / 2;
  let sum = 0;
  let count = 0;
  if (allPairs <= MAX_PAIRS) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++, count++) sum += rougeLF1(item(i), item(j));
  } else {
    for (; count < MAX_PAIRS; count++) {
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      sum += rougeLF1(item(i), item(j));
    }
  }
  return sum / count;
}

/** Original size over gzip size of the newline-joined set (higher means more repetitive). */
export function compressionRatio(inputs: readonly string[]): number {
  // The joined text's bytes, written straight into one buffer (no joined string beside it).
  let bytes = Math.max(0, inputs.length - 1);
  for (const input of inputs) bytes += Buffer.byteLength(input);
  const text = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (i > 0) at += text.write('\n', at);
    at += text.write(inputs[i]!, at);
  }
  if (text.length === 0) return 0;
  return text.length / gzipSync(text, { level: 9 }).length;
}

/** Token ids shared across the set, so similarity compares numbers; one input's words at a time, straight into the pool. */
function encode(inputs: readonly string[]): TokenPool {
  const ids = new Map<string, number>();
  let pool = new Int32Array(1024);
  const offsets = new Int32Array(inputs.length + 1);
  let end = 0;
  for (let k = 0; k < inputs.length; k++) {
    const words = tokenize(inputs[k]!);
    while (pool.length < end + words.length) {
      const grown = new Int32Array(pool.length * 2);
      grown.set(pool);
      pool = grown;
    }
    for (const word of words) {
      let id = ids.get(word);
      if (id === undefined) ids.set(word, (id = ids.size));
      pool[end++] = id;
    }
    offsets[k + 1] = end;
  }
  return { pool, offsets, vocabulary: Math.max(1, ids.size) };
}

function pack(tokenized: readonly Int32Array[]): TokenPool {
  const offsets = new Int32Array(tokenized.length + 1);
  let vocabulary = 1;
  for (let k = 0; k < tokenized.length; k++) {
    const tokens = tokenized[k]!;
    offsets[k + 1] = offsets[k]! + tokens.length;
    for (let i = 0; i < tokens.length; i++) if (tokens[i]! >= vocabulary) vocabulary = tokens[i]! + 1;
  }
  const pool = new Int32Array(offsets[tokenized.length]!);
  for (let k = 0; k < tokenized.length; k++) pool.set(tokenized[k]!, offsets[k]!);
  return { pool, offsets, vocabulary };
}
