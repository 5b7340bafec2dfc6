/**
 * Dedup benchmark: our MinHash-LSH + ROUGE-L index against the naive
 * Self-Instruct filter (every new item's ROUGE-L F1 against every kept one,
 * reject above 0.7), on deterministic corpora of short inputs with ~5%
 * planted near duplicates.
 *
 * Run with `npm run bench` at the repository root (builds, then runs
 * packages/core/dist/bench/dedupBench.js). Designed to finish in about two
 * minutes on a 2-core machine.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DedupIndex } from '../engine/dedup';
import { normalizeText, STOPWORDS } from '../engine/normalize';
import { seededRandom, type Random } from '../engine/random';
import { rougeLF1 } from '../engine/similarity';

const THRESHOLD = 0.7;
const PLANTED_SHARE = 0.05;
/** The naive filter is quadratic: give up on a size (and say so) past this many seconds. */
const NAIVE_BUDGET_S = 75;

// ---------------------------------------------------------------------------
// Corpus

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'sh', 'st', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou', 'y'];
const CODAS = ['', '', 'n', 'r', 's', 'l', 'm', 'x', 'nd', 'rt', 'st'];
/** Function words, as real inputs have them: they give unrelated items a little in common, as in real text. */
const FUNCTION_WORDS = ['the', 'a', 'of', 'to', 'and', 'in', 'for', 'with', 'my', 'is', 'how', 'what', 'can', 'you', 'please', 'me'];

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)]!;
}

function makeVocabulary(size: number, random: Random): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 1 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < syllables; i++) word += pick(ONSETS, random) + pick(VOWELS, random) + pick(CODAS, random);
    if (word.length >= 3 && !STOPWORDS.has(word)) words.add(word);
  }
  return [...words];
}

function makeItem(vocabulary: readonly string[], random: Random): string[] {
  const length = 10 + Math.floor(random() * 16); // 10..25 words
  const words: string[] = [];
  for (let i = 0; i < length; i++) words.push(random() < 0.25 ? pick(FUNCTION_WORDS, random) : pick(vocabulary, random));
  return words;
}

/** A copy of `words` with one or two positions replaced by other vocabulary words. */
function nearCopy(words: readonly string[], vocabulary: readonly string[], random: Random): string[] {
  const copy = [...words];
  const changes = 1 + Math.floor(random() * 2);
  const present = new Set(words);
  const positions = new Set<number>();
  while (positions.size < changes) positions.add(Math.floor(random() * copy.length));
  for (const position of positions) {
    let replacement = pick(vocabulary, random);
    while (present.has(replacement)) replacement = pick(vocabulary, random);
    present.add(replacement);
    copy[position] = replacement;
  }
  return copy;
}

function render(words: readonly string[], random: Random): string {
  const first = words[0]!;
  const text = [first.charAt(0).toUpperCase() + first.slice(1), ...words.slice(1)].join(' ');
  return text + (random() < 0.4 ? '?' : '.');
}

interface Corpus {
  items: string[];
  /** For each item: true when it is a planted near duplicate of an earlier (unplanted) item. */
  planted: boolean[];
  plantedCount: number;
}

function makeCorpus(size: number, seed: number): Corpus {
  const random = seededRandom(seed);
  const vocabulary = makeVocabulary(Math.max(20_000, Math.round(size / 2)), random);
  const items: string[] = [];
  const planted: boolean[] = [];
  const originals: string[][] = [];
  let plantedCount = 0;
  for (let i = 0; i < size; i++) {
    if (originals.length >= 20 && random() < PLANTED_SHARE) {
      items.push(render(nearCopy(pick(originals, random), vocabulary, random), random));
      planted.push(true);
      plantedCount++;
    } else {
      const words = makeItem(vocabulary, random);
      originals.push(words);
      items.push(render(words, random));
      planted.push(false);
    }
  }
  return { items, planted, plantedCount };
}

// ---------------------------------------------------------------------------
// Methods: each returns, per item, whether it was rejected.

interface Run {
  seconds: number;
  rejected: boolean[] | null; // null when the run was abandoned over budget
  processed: number;
}

function runIndex(items: readonly string[]): Run {
  const start = performance.now();
  const index = new DedupIndex(THRESHOLD);
  const rejected = items.map((item) => index.checkAndAdd(item).kind !== 'unique');
  return { seconds: (performance.now() - start) / 1000, rejected, processed: items.length };
}

/** Self-Instruct's filter: ROUGE-L F1 against every kept item (stopping at the first one above 0.7). */
function runNaive(items: readonly string[], budgetSeconds: number): Run {
  const start = performance.now();
  const ids = new Map<string, number>();
  const kept: Int32Array[] = [];
  const rejected: boolean[] = [];
  for (let i = 0; i < items.length; i++) {
    const words = normalizeText(items[i]!).split(' ');
    const tokens = new Int32Array(words.length);
    for (let w = 0; w < words.length; w++) {
      let id = ids.get(words[w]!);
      if (id === undefined) ids.set(words[w]!, (id = ids.size));
      tokens[w] = id;
    }
    let reject = false;
    for (const other of kept) {
      if (rougeLF1(tokens, other) > THRESHOLD) {
        reject = true;
        break;
      }
    }
    rejected.push(reject);
    if (!reject) kept.push(tokens);
    if ((i & 255) === 0 && (performance.now() - start) / 1000 > budgetSeconds) {
      return { seconds: (performance.now() - start) / 1000, rejected: null, processed: i + 1 };
    }
  }
  return { seconds: (performance.now() - start) / 1000, rejected, processed: items.length };
}

// ---------------------------------------------------------------------------
// Report

interface Row {
  size: number;
  method: string;
  run: Run;
  corpus: Corpus;
  reference: boolean[] | null;
}

function recall(rejected: boolean[], corpus: Corpus): number {
  let found = 0;
  for (let i = 0; i < rejected.length; i++) if (corpus.planted[i] && rejected[i]) found++;
  return found / corpus.plantedCount;
}

function falsePositives(rejected: boolean[], corpus: Corpus): number {
  let n = 0;
  for (let i = 0; i < rejected.length; i++) if (!corpus.planted[i] && rejected[i]) n++;
  return n;
}

function agreement(a: boolean[], b: boolean[]): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function printTable(rows: Row[]): void {
  const header = ['size', 'method', 'time (s)', 'items/s', 'recall', 'agreement', 'false positives'];
  const lines = rows.map(({ size, method, run, corpus, reference }) => {
    if (run.rejected === null) {
      return [size.toLocaleString('en-US'), method, `>${run.seconds.toFixed(1)}`, `${Math.round(run.processed / run.seconds).toLocaleString('en-US')}`, 'stopped', '-', `- (${run.processed.toLocaleString('en-US')} done)`];
    }
    return [
      size.toLocaleString('en-US'),
      method,
      run.seconds.toFixed(3),
      Math.round(run.processed / run.seconds).toLocaleString('en-US'),
      pct(recall(run.rejected, corpus)),
      reference === null ? '-' : pct(agreement(run.rejected, reference)),
      `${falsePositives(run.rejected, corpus)} of ${(corpus.items.length - corpus.plantedCount).toLocaleString('en-US')}`,
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

function main(): void {
  const cpus = os.cpus();
  console.log(`dedup benchmark: threshold ${THRESHOLD}, ~${PLANTED_SHARE * 100}% planted near duplicates (1-2 words changed)`);
  console.log(`node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} cores), ${os.platform()} ${os.arch()}`);
  console.log('');

  // Warm up the JIT on a small corpus, untimed.
  const warm = makeCorpus(2_000, 1);
  runIndex(warm.items);
  runNaive(warm.items.slice(0, 500), NAIVE_BUDGET_S);

  const rows: Row[] = [];
  const small = makeCorpus(10_000, 10_000);
  const naiveSmall = runNaive(small.items, NAIVE_BUDGET_S);
  const indexSmall = runIndex(small.items);
  const naiveDecisions = naiveSmall.rejected;
  if (naiveDecisions === null) {
    // Too slow here: measure the naive filter on the first 5,000 items too, and compare there.
    const half = { items: small.items.slice(0, 5_000), planted: small.planted.slice(0, 5_000), plantedCount: small.planted.slice(0, 5_000).filter(Boolean).length };
    const naiveHalf = runNaive(half.items, NAIVE_BUDGET_S);
    const indexHalf = runIndex(half.items);
    rows.push({ size: 5_000, method: 'naive ROUGE-L (Self-Instruct)', run: naiveHalf, corpus: half, reference: null });
    rows.push({ size: 5_000, method: 'DedupIndex (MinHash-LSH + ROUGE-L)', run: indexHalf, corpus: half, reference: naiveHalf.rejected });
  }
  rows.push({ size: 10_000, method: 'naive ROUGE-L (Self-Instruct)', run: naiveSmall, corpus: small, reference: null });
  rows.push({ size: 10_000, method: 'DedupIndex (MinHash-LSH + ROUGE-L)', run: indexSmall, corpus: small, reference: naiveDecisions });

  const large = makeCorpus(100_000, 100_000);
  rows.push({ size: 100_000, method: 'DedupIndex (MinHash-LSH + ROUGE-L)', run: runIndex(large.items), corpus: large, reference: null });

  printTable(rows);
  console.log('');
  if (naiveDecisions !== null) {
    console.log(`speedup at 10,000: ${(naiveSmall.seconds / indexSmall.seconds).toFixed(0)}x (naive ${naiveSmall.seconds.toFixed(2)} s, DedupIndex ${indexSmall.seconds.toFixed(3)} s)`);
  } else {
    console.log(`naive filter at 10,000 stopped after ${naiveSmall.seconds.toFixed(0)} s (${naiveSmall.processed} items); not extrapolated.`);
  }
  console.log('recall: planted near duplicates rejected; agreement: same keep/reject decision as the naive filter, item by item;');
  console.log('false positives: unplanted items rejected. The naive filter stops at the first kept item above 0.7 (same decisions, less work).');
  console.log(`planted: ${small.plantedCount} of 10,000 and ${large.plantedCount} of 100,000 items.`);
}

main();
