import { normalizeText, STOPWORDS } from './normalize';
import { rougeLF1, rougeLUpperBound } from './similarity';

/**
 * The dedup index of one job: exact duplicates by normalised text, near
 * duplicates by MinHash-LSH candidates checked with ROUGE-L F1.
 *
 * Cost stays roughly linear in N: each check hashes its own tokens and
 * verifies only the few items that share an LSH bucket with it, instead of
 * comparing against everything kept (the Self-Instruct filter).
 */

export type DedupVerdict =
  | { kind: 'unique' }
  | { kind: 'empty' }
  | { kind: 'exact'; of: string }
  | { kind: 'near'; of: string; similarity: number };

/**
 * LSH shape: `bands` bands of `rows` min-hashes each, out of NUM_HASHES. A
 * pair with shingle Jaccard J becomes a candidate with probability
 * 1-(1-J^rows)^bands. A low ROUGE-L threshold lets pairs with little shingle
 * overlap count as near duplicates, so it gets wider bands:
 * - 3 rows x 24 bands (threshold >= 0.7): 0.80 at J=0.4, 0.96 at 0.5, 0.997 at 0.6;
 * - 2 rows x 36 bands (below 0.7): 0.97 at J=0.3, 0.999 at 0.4, at the cost of more candidates to verify.
 */
const NUM_HASHES = 72;

/**
 * The most candidates one check verifies with ROUGE-L, likeliest first. Keeps
 * a check's cost bounded when many inputs share a template; a real near
 * duplicate shares most bands and is verified among the first.
 */
const MAX_VERIFIED = 200;

function lshShape(threshold: number): { rows: number; bands: number } {
  return threshold >= 0.7 ? { rows: 3, bands: 24 } : { rows: 2, bands: 36 };
}

/** Fixed per-hash seeds, so an index rebuilt after a restart buckets exactly as before. */
const HASH_SEEDS: Uint32Array = (() => {
  const seeds = new Uint32Array(NUM_HASHES);
  let state = 0x9e3779b9;
  for (let i = 0; i < NUM_HASHES; i++) {
    state = fmix32(state + 0x6d2b79f5);
    seeds[i] = state;
  }
  return seeds;
})();

interface Entry {
  text: string;
  tokens: Int32Array;
}

export class DedupIndex {
  private readonly exact = new Map<string, number>();
  private readonly entries: Entry[] = [];
  private readonly rows: number;
  private readonly bands: Map<number, number[]>[];
  private readonly tokenIds = new Map<string, number>();
  /** Per-entry stamp of the last check that verified it, so an entry found in several bands is verified once. */
  private seenStamp = new Int32Array(1024);
  /** Per-entry count of the bands it shares with the input being checked. */
  private bandHits = new Int32Array(1024);
  private stamp = 0;

  constructor(readonly nearThreshold: number) {
    const shape = lshShape(nearThreshold);
    this.rows = shape.rows;
    this.bands = Array.from({ length: shape.bands }, () => new Map());
  }

  get size(): number {
    return this.entries.length;
  }

  /** Is `text` new? Does not add it. */
  check(text: string): DedupVerdict {
    const prepared = this.prepare(text);
    if (prepared === null) return { kind: 'empty' };
    return this.judge(prepared);
  }

  /** Adds `text` without judging it (seeds, and inputs accepted before a restart). */
  add(text: string): void {
    const prepared = this.prepare(text);
    if (prepared === null || this.exact.has(prepared.normalized)) return;
    this.insert(text, prepared);
  }

  /** Judges `text` and adds it when it is unique. */
  checkAndAdd(text: string): DedupVerdict {
    const prepared = this.prepare(text);
    if (prepared === null) return { kind: 'empty' };
    const verdict = this.judge(prepared);
    if (verdict.kind === 'unique') this.insert(text, prepared);
    return verdict;
  }

  private judge(p: Prepared): DedupVerdict {
    const exactIndex = this.exact.get(p.normalized);
    if (exactIndex !== undefined) return { kind: 'exact', of: this.entries[exactIndex]!.text };

    // Gather the candidates and how many bands each shares with the input:
    // true near duplicates share many, chance collisions one or two.
    this.stamp++;
    const candidates: number[] = [];
    for (let band = 0; band < this.bands.length; band++) {
      const bucket = this.bands[band]!.get(p.bandKeys[band]!);
      if (bucket === undefined) continue;
      for (const index of bucket) {
        if (this.seenStamp[index] !== this.stamp) {
          this.seenStamp[index] = this.stamp;
          this.bandHits[index] = 0;
          candidates.push(index);
        }
        this.bandHits[index]!++;
      }
    }
    // Verify the likeliest first, a bounded number of them, and stop at the first match.
    if (candidates.length > MAX_VERIFIED) candidates.sort((a, b) => this.bandHits[b]! - this.bandHits[a]!);
    const verified = Math.min(candidates.length, MAX_VERIFIED);
    for (let i = 0; i < verified; i++) {
      const index = candidates[i]!;
      const other = this.entries[index]!.tokens;
      if (rougeLUpperBound(p.tokens.length, other.length) < this.nearThreshold) continue;
      const similarity = rougeLF1(p.tokens, other);
      if (similarity >= this.nearThreshold) return { kind: 'near', of: this.entries[index]!.text, similarity };
    }
    return { kind: 'unique' };
  }

  private insert(text: string, p: Prepared): void {
    const index = this.entries.length;
    this.entries.push({ text, tokens: p.tokens });
    this.exact.set(p.normalized, index);
    if (this.seenStamp.length <= index) {
      this.seenStamp = grow(this.seenStamp);
      this.bandHits = grow(this.bandHits);
    }
    for (let band = 0; band < this.bands.length; band++) {
      const buckets = this.bands[band]!;
      const key = p.bandKeys[band]!;
      const bucket = buckets.get(key);
      if (bucket === undefined) buckets.set(key, [index]);
      else bucket.push(index);
    }
  }

  private prepare(text: string): Prepared | null {
    const normalized = normalizeText(text);
    if (normalized === '') return null;
    const words = normalized.split(' ');
    const tokens = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) tokens[i] = this.tokenId(words[i]!);
    return { normalized, tokens, bandKeys: bandKeys(shingles(words), this.rows, this.bands.length) };
  }

  private tokenId(word: string): number {
    let id = this.tokenIds.get(word);
    if (id === undefined) {
      id = this.tokenIds.size;
      this.tokenIds.set(word, id);
    }
    return id;
  }
}

interface Prepared {
  normalized: string;
  tokens: Int32Array;
  bandKeys: Uint32Array;
}

/**
 * The MinHash shingles of an input: its distinct content words, and its word
 * bigrams. The bigrams carry structure ("a story", "who is"), so two inputs
 * that share a template but not their content words still meet in a bucket:
 * ROUGE-L counts every word, and so must the candidate search.
 */
function shingles(words: string[]): Set<number> {
  const set = new Set<number>();
  for (const word of words) if (!STOPWORDS.has(word)) set.add(hashString(word));
  for (let i = 1; i < words.length; i++) set.add(hashString(`${words[i - 1]} ${words[i]}`));
  if (set.size === 0) for (const word of words) set.add(hashString(word));
  return set;
}

function bandKeys(shingleHashes: Set<number>, rows: number, bands: number): Uint32Array {
  const signature = new Uint32Array(NUM_HASHES).fill(0xffffffff);
  for (const h of shingleHashes) {
    for (let i = 0; i < NUM_HASHES; i++) {
      const v = fmix32(h ^ HASH_SEEDS[i]!);
      if (v < signature[i]!) signature[i] = v;
    }
  }
  const keys = new Uint32Array(bands);
  for (let band = 0; band < bands; band++) {
    let key = band + 1;
    for (let r = 0; r < rows; r++) key = fmix32(key ^ signature[band * rows + r]!) + r;
    keys[band] = key >>> 0;
  }
  return keys;
}

function grow(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

/** FNV-1a over UTF-16 code units. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a cheap, well-mixing 32-bit permutation. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
