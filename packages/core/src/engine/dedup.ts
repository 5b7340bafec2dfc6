import { normalizeText, STOPWORDS } from './normalize';
import { NEAREST_FLOOR } from '../model/provenance';
import { rougeLF1, rougeLUpperBound } from './similarity';

/**
 * The dedup index of one job: exact duplicates by normalised text, near
 * duplicates by MinHash-LSH candidates checked with ROUGE-L F1.
 *
 * Cost stays roughly linear in N: each check hashes its own tokens and
 * verifies only the few items that share an LSH bucket with it, instead of
 * comparing against everything kept (the Self-Instruct filter).
 */

/**
 * What the index makes of a text. `entry` is the index's number of the
 * entry it matched (0, 1, ... in the order entries were added). A unique
 * text judged with `nearest` on carries its most similar entry when that
 * reached NEAREST_FLOOR.
 */
export type DedupVerdict =
  | { kind: 'unique'; nearest?: { entry: number; similarity: number } }
  | { kind: 'empty' }
  | { kind: 'exact'; of: string; entry: number }
  | { kind: 'near'; of: string; entry: number; similarity: number };

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
/** Of those, how many below the threshold are compared to find an input's nearest (provenance). */
const NEAREST_VERIFIED = 8;

/**
 * The most entries of one bucket a check looks at, newest first. A bucket
 * grows without bound when many inputs share a template (its band key comes
 * from shingles they all have); walking it whole made each check cost O(N)
 * and a job O(N^2). A real near duplicate shares many bands with its
 * original, most of them on rare shingles whose buckets are small, so it is
 * still found through those.
 */
const MAX_SCANNED_PER_BUCKET = 32;

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

/**
 * Storage is flat typed arrays, not objects and Maps of arrays, so an index
 * of 100,000 inputs stays in tens of megabytes and adding allocates almost
 * nothing:
 * - the token ids of all entries, back to back in one pool (`offsets` marks
 *   where each begins);
 * - exact duplicates: an open-addressing table of entry numbers, keyed by a
 *   hash of the token sequence and confirmed by comparing the tokens (equal
 *   token sequences are equal normalised texts);
 * - per band, an open-addressing table from band key to the newest entry in
 *   that bucket, the others chained through `next[entry * bands + band]`.
 */
/** A candidate judged once, with the work that judging took (see DedupIndex.checkCandidate). */
export interface CheckedCandidate {
  readonly text: string;
  readonly verdict: DedupVerdict;
  readonly prepared: Prepared | null;
  /** The index's size when it was judged: entries from there on are new to it. */
  readonly sizeAtCheck: number;
}

export class DedupIndex {
  private readonly texts: string[] = [];
  private pool = new Int32Array(16_384);
  private poolEnd = 0;
  private offsets = new Int32Array(1025);
  private exactHashes = new Uint32Array(1024);
  private readonly exactTable = new EntryTable();
  private readonly rows: number;
  private readonly bandCount: number;
  private readonly bands: BandTable[];
  private next = new Int32Array(1024);
  private readonly tokenIds = new Map<string, number>();
  /**
   * Per token id: its word, the hash of the word and of the word followed by
   * a space (where a bigram's hash starts), and whether it is a stopword.
   * Shingles hash words, not ids, so a rebuilt index buckets as before.
   */
  private readonly words: string[] = [];
  private wordHashes = new Uint32Array(1024);
  private spacedHashes = new Uint32Array(1024);
  private stopwords = new Uint8Array(1024);
  /**
   * Per entry, side by side (one cache line): [2i] the stamp of the last check
   * that met it, so an entry found in several bands is counted as one
   * candidate; [2i+1] how many bands it shares with the input being checked.
   */
  private seen = new Int32Array(2048);
  private candidates = new Int32Array(256);
  private stamp = 0;
  /** Word counts of the input being checked and of the candidate being verified, by token id (see sharedTokens). */
  private queryCounts = new Int32Array(0);
  private queryStamps = new Int32Array(0);
  private usedCounts = new Int32Array(0);
  private usedStamps = new Int32Array(0);
  private useStamp = 0;
  private shingleBuffer = new Uint32Array(256);

  constructor(readonly nearThreshold: number) {
    const shape = lshShape(nearThreshold);
    this.rows = shape.rows;
    this.bandCount = shape.bands;
    this.bands = Array.from({ length: shape.bands }, () => new BandTable());
  }

  get size(): number {
    return this.texts.length;
  }

  /** Is `text` new? Does not add it. */
  check(text: string): DedupVerdict {
    const prepared = this.prepare(text);
    if (prepared === null) return { kind: 'empty' };
    return this.judge(prepared);
  }

  /** Adds `text` without judging it (seeds, and inputs accepted before a restart); answers whether it was added (not empty, not an exact repeat). */
  add(text: string): boolean {
    const prepared = this.prepare(text);
    if (prepared === null || this.findExact(prepared) >= 0) return false;
    this.insert(text, prepared);
    return true;
  }

  /**
   * Judges `text` without adding it, and keeps the work, so that a later
   * `addIfUnique` (after a critic, say) judges it only against the entries
   * added in between instead of preparing and judging it again.
   */
  checkCandidate(text: string, options: { nearest?: boolean } = {}): CheckedCandidate {
    const prepared = this.prepare(text);
    const verdict: DedupVerdict = prepared === null ? { kind: 'empty' } : this.judge(prepared, 0, options.nearest === true);
    return { text, verdict, prepared, sizeAtCheck: this.size };
  }

  /**
   * Adds a checked candidate if it is still unique: it is judged again only
   * against entries added since its check (its nearest entry, if asked for,
   * is the closer of the two judgements').
   */
  addIfUnique(candidate: CheckedCandidate): DedupVerdict {
    const { prepared, verdict, sizeAtCheck } = candidate;
    if (prepared === null || verdict.kind !== 'unique') return verdict;
    let now: DedupVerdict = verdict;
    if (this.size !== sizeAtCheck) {
      now = this.judge(prepared, sizeAtCheck, verdict.nearest !== undefined || 'nearest' in verdict);
      if (now.kind === 'unique' && verdict.nearest !== undefined && (now.nearest === undefined || now.nearest.similarity < verdict.nearest.similarity)) {
        now = { kind: 'unique', nearest: verdict.nearest };
      }
    }
    if (now.kind === 'unique') this.insert(candidate.text, prepared);
    return now;
  }

  /** Judges `text` and adds it when it is unique. */
  checkAndAdd(text: string): DedupVerdict {
    const prepared = this.prepare(text);
    if (prepared === null) return { kind: 'empty' };
    const verdict = this.judge(prepared);
    if (verdict.kind === 'unique') this.insert(text, prepared);
    return verdict;
  }

  /**
   * Judges against the entries from index `since` on (all of them by default).
   * `nearest`: also find the most similar entry below the threshold (down to
   * NEAREST_FLOOR), which costs the similarity of more candidates.
   */
  private judge(p: Prepared, since = 0, nearest = false): DedupVerdict {
    const exactIndex = this.findExact(p);
    if (exactIndex >= 0) return { kind: 'exact', of: this.texts[exactIndex]!, entry: exactIndex };

    // Gather the candidates and how many bands each shares with the input:
    // true near duplicates share many, chance collisions one or two.
    this.stamp++;
    let found = 0;
    const bands = this.bandCount;
    for (let band = 0; band < bands; band++) {
      let scanned = 0;
      // Bucket lists run newest first, so `since` ends a walk early.
      for (let index = this.bands[band]!.head(p.bandKeys[band]!); index >= since && scanned < MAX_SCANNED_PER_BUCKET; index = this.next[index * bands + band]!) {
        scanned++;
        if (this.seen[2 * index] !== this.stamp) {
          this.seen[2 * index] = this.stamp;
          this.seen[2 * index + 1] = 0;
          if (found === this.candidates.length) this.candidates = grow(this.candidates);
          this.candidates[found++] = index;
        }
        this.seen[2 * index + 1]!++;
      }
    }
    if (found === 0) return nearest ? { kind: 'unique', nearest: undefined } : { kind: 'unique' };
    // Verify the likeliest first, a bounded number of them; report the most similar match.
    const order = found > MAX_VERIFIED ? this.byHits(found) : this.candidates;
    const verified = Math.min(found, MAX_VERIFIED);
    this.countQueryTokens(p.tokens);
    const floor = nearest ? Math.min(NEAREST_FLOOR, this.nearThreshold) : this.nearThreshold;
    // Below the threshold only the nearest is wanted, for provenance: a few LCS runs at most
    // (all of them made a candidate set of template-like inputs several times slower to judge).
    let nearestBudget = nearest ? NEAREST_VERIFIED : 0;
    let best = -1;
    let bestSimilarity = 0;
    let closest = -1;
    let closestSimilarity = 0;
    for (let i = 0; i < verified; i++) {
      const index = order[i]!;
      const start = this.offsets[index]!;
      const end = this.offsets[index + 1]!;
      const upper = rougeLUpperBound(p.tokens.length, end - start);
      if (upper < floor || (upper < this.nearThreshold && nearestBudget === 0)) continue;
      // The common subsequence is at most the words the two share: a cheap bound that spares most LCS runs.
      const common = this.sharedTokens(start, end);
      const bound = (2 * common) / (p.tokens.length + end - start);
      if (bound < floor) continue;
      if (bound < this.nearThreshold) {
        if (nearestBudget === 0 || bound <= closestSimilarity) continue;
        nearestBudget--;
      }
      const similarity = rougeLF1(p.tokens, this.pool.subarray(start, end));
      if (similarity >= this.nearThreshold && similarity > bestSimilarity) {
        best = index;
        bestSimilarity = similarity;
        if (similarity === 1) break;
      } else if (similarity >= floor && similarity > closestSimilarity) {
        closest = index;
        closestSimilarity = similarity;
      }
    }
    if (best >= 0) return { kind: 'near', of: this.texts[best]!, entry: best, similarity: bestSimilarity };
    if (!nearest) return { kind: 'unique' };
    return { kind: 'unique', nearest: closest >= 0 ? { entry: closest, similarity: closestSimilarity } : undefined };
  }

  /** The first `found` candidates ordered by shared bands, most first (stable: a counting sort). */
  private byHits(found: number): Int32Array {
    const counts = new Int32Array(this.bandCount + 2);
    const hits = (index: number) => this.seen[2 * index + 1]!;
    for (let i = 0; i < found; i++) counts[this.bandCount - hits(this.candidates[i]!) + 1]!++;
    for (let h = 1; h < counts.length; h++) counts[h]! += counts[h - 1]!;
    const order = new Int32Array(found);
    for (let i = 0; i < found; i++) {
      const index = this.candidates[i]!;
      order[counts[this.bandCount - hits(index)]!++] = index;
    }
    return order;
  }

  /** Per token id, how often it occurs in the input being checked (valid where queryStamp is the current stamp). */
  private countQueryTokens(tokens: Int32Array): void {
    if (this.queryCounts.length < this.tokenIds.size) {
      this.queryCounts = new Int32Array(2 * this.tokenIds.size);
      this.queryStamps = new Int32Array(2 * this.tokenIds.size);
      this.usedCounts = new Int32Array(2 * this.tokenIds.size);
      this.usedStamps = new Int32Array(2 * this.tokenIds.size);
    }
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (this.queryStamps[t] !== this.stamp) {
        this.queryStamps[t] = this.stamp;
        this.queryCounts[t] = 0;
      }
      this.queryCounts[t]!++;
    }
  }

  /** How many words (with multiplicity) the entry at pool[start, end) shares with the input being checked. */
  private sharedTokens(start: number, end: number): number {
    const use = ++this.useStamp;
    let common = 0;
    for (let i = start; i < end; i++) {
      const t = this.pool[i]!;
      if (this.queryStamps[t] !== this.stamp) continue;
      if (this.usedStamps[t] !== use) {
        this.usedStamps[t] = use;
        this.usedCounts[t] = 0;
      }
      if (this.usedCounts[t]! < this.queryCounts[t]!) {
        this.usedCounts[t]!++;
        common++;
      }
    }
    return common;
  }

  /** The entry whose normalised text equals the input's, or -1. */
  private findExact(p: Prepared): number {
    for (let slot = this.exactTable.first(p.exactHash); ; slot = this.exactTable.after(slot)) {
      const index = this.exactTable.entryAt(slot);
      if (index < 0) return -1;
      if (this.exactHashes[index] === p.exactHash && this.sameTokens(index, p.tokens)) return index;
    }
  }

  private sameTokens(index: number, tokens: Int32Array): boolean {
    const start = this.offsets[index]!;
    if (this.offsets[index + 1]! - start !== tokens.length) return false;
    for (let i = 0; i < tokens.length; i++) if (this.pool[start + i] !== tokens[i]) return false;
    return true;
  }

  private insert(text: string, p: Prepared): void {
    const index = this.texts.length;
    this.texts.push(text);
    if (this.offsets.length <= index + 1) this.offsets = grow(this.offsets);
    while (this.pool.length < this.poolEnd + p.tokens.length) this.pool = grow(this.pool);
    this.pool.set(p.tokens, this.poolEnd);
    this.poolEnd += p.tokens.length;
    this.offsets[index + 1] = this.poolEnd;
    if (this.exactHashes.length <= index) {
      this.exactHashes = grow(this.exactHashes);
      this.seen = grow(this.seen);
    }
    this.exactHashes[index] = p.exactHash;
    this.exactTable.insert(p.exactHash, index, (i) => this.exactHashes[i]!);
    const bands = this.bandCount;
    while (this.next.length < (index + 1) * bands) this.next = grow(this.next);
    for (let band = 0; band < bands; band++) {
      this.next[index * bands + band] = this.bands[band]!.push(p.bandKeys[band]!, index);
    }
  }

  private prepare(text: string): Prepared | null {
    const normalized = normalizeText(text);
    if (normalized === '') return null;
    const words = normalized.split(' ');
    const n = words.length;
    const tokens = new Int32Array(n);
    let exactHash = 0x811c9dc5;
    for (let i = 0; i < n; i++) {
      const id = this.tokenId(words[i]!);
      tokens[i] = id;
      exactHash = Math.imul(exactHash ^ id, 0x01000193);
    }
    return { tokens, exactHash: fmix32(exactHash ^ n), bandKeys: this.bandKeys(tokens) };
  }

  /**
   * The MinHash band keys of an input. Its shingles are its content words
   * and its word bigrams. The bigrams carry structure ("a story", "who is"),
   * so two inputs that share a template but not their content words still
   * meet in a bucket: ROUGE-L counts every word, and so must the candidate
   * search. A repeated shingle does not change a minimum, so none are removed.
   */
  private bandKeys(tokens: Int32Array): Uint32Array {
    const n = tokens.length;
    if (this.shingleBuffer.length < 2 * n) this.shingleBuffer = new Uint32Array(2 * n);
    const shingles = this.shingleBuffer;
    let count = 0;
    for (let i = 0; i < n; i++) if (this.stopwords[tokens[i]!] === 0) shingles[count++] = this.wordHashes[tokens[i]!]!;
    for (let i = 1; i < n; i++) shingles[count++] = continueHash(this.spacedHashes[tokens[i - 1]!]!, this.words[tokens[i]!]!);
    if (count === 0) for (let i = 0; i < n; i++) shingles[count++] = this.wordHashes[tokens[i]!]!;

    const signature = SIGNATURE;
    signature.fill(0xffffffff);
    for (let s = 0; s < count; s++) {
      const h = shingles[s]!;
      for (let i = 0; i < NUM_HASHES; i++) {
        const v = fmix32(h ^ HASH_SEEDS[i]!);
        if (v < signature[i]!) signature[i] = v;
      }
    }
    const rows = this.rows;
    const keys = new Uint32Array(this.bandCount);
    for (let band = 0; band < keys.length; band++) {
      let key = band + 1;
      for (let r = 0; r < rows; r++) key = fmix32(key ^ signature[band * rows + r]!) + r;
      keys[band] = key >>> 0;
    }
    return keys;
  }

  private tokenId(word: string): number {
    let id = this.tokenIds.get(word);
    if (id === undefined) {
      id = this.tokenIds.size;
      this.tokenIds.set(word, id);
      if (this.wordHashes.length <= id) {
        this.wordHashes = grow(this.wordHashes);
        this.spacedHashes = grow(this.spacedHashes);
        this.stopwords = grow(this.stopwords);
      }
      this.words.push(word);
      this.wordHashes[id] = hashString(word);
      this.spacedHashes[id] = fnvStep(fnvState(word), 0x20);
      this.stopwords[id] = STOPWORDS.has(word) ? 1 : 0;
    }
    return id;
  }
}

interface Prepared {
  tokens: Int32Array;
  /** Hash of the token sequence, for exact duplicates. */
  exactHash: number;
  bandKeys: Uint32Array;
}

/** Scratch space of the MinHash signature (the index is used from one thread). */
const SIGNATURE = new Uint32Array(NUM_HASHES);


/** Open addressing (linear probing) over power-of-two tables, resized at 3/4 full. */
const EMPTY = -1;

/** One band's buckets: band key to the newest entry of the bucket; [2s] key, [2s+1] newest entry (EMPTY: free slot). */
class BandTable {
  private slots = new Int32Array(512).fill(EMPTY);
  private used = 0;

  /** The newest entry of the bucket, or -1. */
  head(key: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const k = key | 0;
    for (let slot = k & mask; ; slot = (slot + 1) & mask) {
      const head = slots[2 * slot + 1]!;
      if (head === EMPTY || slots[2 * slot] === k) return head;
    }
  }

  /** Makes `entry` the newest of its bucket; answers the previous newest (-1 for a new bucket). */
  push(key: number, entry: number): number {
    if (4 * (this.used + 1) > 3 * (this.slots.length >> 1)) this.resize();
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const k = key | 0;
    for (let slot = k & mask; ; slot = (slot + 1) & mask) {
      const head = slots[2 * slot + 1]!;
      if (head === EMPTY) {
        slots[2 * slot] = k;
        slots[2 * slot + 1] = entry;
        this.used++;
        return EMPTY;
      }
      if (slots[2 * slot] === k) {
        slots[2 * slot + 1] = entry;
        return head;
      }
    }
  }

  private resize(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2).fill(EMPTY);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === EMPTY) continue;
      let slot = old[i]! & mask;
      while (slots[2 * slot + 1] !== EMPTY) slot = (slot + 1) & mask;
      slots[2 * slot] = old[i]!;
      slots[2 * slot + 1] = old[i + 1]!;
    }
    this.slots = slots;
  }
}

/** Entry numbers by a hash of theirs (kept by the caller); several entries may share a hash. */
class EntryTable {
  private slots = new Int32Array(1024).fill(EMPTY);
  private used = 0;

  first(hash: number): number {
    return hash & (this.slots.length - 1);
  }

  after(slot: number): number {
    return (slot + 1) & (this.slots.length - 1);
  }

  /** The entry in `slot`, or -1 (the end of the probe sequence). */
  entryAt(slot: number): number {
    return this.slots[slot]!;
  }

  insert(hash: number, entry: number, hashOf: (entry: number) => number): void {
    if (4 * (this.used + 1) > 3 * this.slots.length) {
      const old = this.slots;
      this.slots = new Int32Array(old.length * 2).fill(EMPTY);
      for (const e of old) if (e !== EMPTY) this.place(hashOf(e), e);
    }
    this.place(hash, entry);
    this.used++;
  }

  private place(hash: number, entry: number): void {
    let slot = this.first(hash);
    while (this.slots[slot] !== EMPTY) slot = this.after(slot);
    this.slots[slot] = entry;
  }
}

function grow<T extends Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(array: T): T {
  const grown = new (array.constructor as new (length: number) => T)(array.length * 2);
  grown.set(array);
  return grown;
}

/** FNV-1a over UTF-16 code units. */
function hashString(s: string): number {
  return fnvState(s) >>> 0;
}

function fnvState(s: string): number {
  return continueState(0x811c9dc5, s);
}

function fnvStep(state: number, code: number): number {
  return Math.imul(state ^ code, 0x01000193);
}

function continueState(state: number, s: string): number {
  let h = state;
  for (let i = 0; i < s.length; i++) h = fnvStep(h, s.charCodeAt(i));
  return h;
}

/** hashString(a + ' ' + b) from the state after "a " (spacedHashes), without building the string. */
function continueHash(state: number, s: string): number {
  return continueState(state, s) >>> 0;
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
