import { rougeLF1, rougeLUpperBound, seededRandom, type Random } from '@datagen/core';

/** Textbook O(n*m) LCS with a full table, as an independent reference. */
function referenceLcs(a: readonly number[], b: readonly number[]): number {
  const table: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i]![j] = a[i - 1] === b[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
    }
  }
  return table[a.length]![b.length]!;
}

function referenceF1(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 1 : 0;
  const lcs = referenceLcs(a, b);
  if (lcs === 0) return 0;
  const p = lcs / b.length;
  const r = lcs / a.length;
  return (2 * p * r) / (p + r);
}

function randomTokens(random: Random, maxLength: number, alphabet: number): number[] {
  return Array.from({ length: Math.floor(random() * (maxLength + 1)) }, () => Math.floor(random() * alphabet));
}

describe('rougeLF1', () => {
  it('is 1 for identical sequences', () => {
    expect(rougeLF1([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(rougeLF1(Int32Array.from([7, 7, 7, 7]), Int32Array.from([7, 7, 7, 7]))).toBe(1);
  });

  it('is 0 when nothing is in common', () => {
    expect(rougeLF1([1, 2, 3], [4, 5, 6, 7])).toBe(0);
  });

  it('matches hand-computed values', () => {
    // one word of four changed: LCS 3, P = R = 3/4
    expect(rougeLF1([1, 2, 3, 4], [1, 2, 9, 4])).toBeCloseTo(0.75, 12);
    // one of eight changed: exactly 7/8
    expect(rougeLF1([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 0])).toBe(0.875);
    // the shorter is a subsequence of the longer: LCS 2, P = 1, R = 1/2, F1 = 2/3
    expect(rougeLF1([1, 2, 3, 4], [1, 3])).toBeCloseTo(2 / 3, 12);
    // reversed: LCS 1 of 5, F1 = 1/5
    expect(rougeLF1([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(0.2, 12);
    // order matters for LCS: [1,2,3] vs [3,1,2] share the subsequence [1,2]
    expect(rougeLF1([1, 2, 3], [3, 1, 2])).toBeCloseTo(2 / 3, 12);
    // a repeated token counts once per match: LCS([1,1,2],[1,2,2]) = 2
    expect(rougeLF1([1, 1, 2], [1, 2, 2])).toBeCloseTo(2 / 3, 12);
  });

  it('treats empty sequences as equal to each other and unlike anything else', () => {
    expect(rougeLF1([], [])).toBe(1);
    expect(rougeLF1([], [1])).toBe(0);
    expect(rougeLF1([1, 2], [])).toBe(0);
  });

  it('agrees with a reference LCS on random sequences, short and long', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 400; i++) {
      const long = i % 10 === 0;
      const a = randomTokens(random, long ? 300 : 20, long ? 40 : 6);
      const b = randomTokens(random, long ? 300 : 20, long ? 40 : 6);
      expect(rougeLF1(a, b)).toBeCloseTo(referenceF1(a, b), 12);
    }
  });

  it('gives the same answer after a much longer comparison (its scratch row is reused)', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [1, 2, 0, 4, 5, 6];
    const before = rougeLF1(a, b);
    const big = Array.from({ length: 5000 }, (_, i) => i % 97);
    expect(rougeLF1(big, big)).toBe(1);
    expect(rougeLF1(a, b)).toBe(before);
    expect(rougeLF1(b.slice(0, 2), a)).toBeCloseTo(referenceF1(b.slice(0, 2), a), 12);
  });

  it('is symmetric', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 500; i++) {
      const a = randomTokens(random, 25, 8);
      const b = randomTokens(random, 25, 8);
      expect(rougeLF1(a, b)).toBeCloseTo(rougeLF1(b, a), 12);
    }
  });

  it('stays within [0, 1]', () => {
    const random = seededRandom(13);
    for (let i = 0; i < 500; i++) {
      const f1 = rougeLF1(randomTokens(random, 30, 5), randomTokens(random, 30, 5));
      expect(f1).toBeGreaterThanOrEqual(0);
      expect(f1).toBeLessThanOrEqual(1);
    }
  });
});

describe('rougeLUpperBound', () => {
  it('bounds rougeLF1 from above for any pair of these lengths', () => {
    const random = seededRandom(17);
    for (let i = 0; i < 500; i++) {
      const a = randomTokens(random, 30, 4);
      const b = randomTokens(random, 30, 4);
      expect(rougeLF1(a, b)).toBeLessThanOrEqual(rougeLUpperBound(a.length, b.length) + 1e-12);
    }
  });

  it('is reached when the shorter sequence is a subsequence of the longer', () => {
    const long = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const short = [2, 4, 6, 8];
    expect(rougeLF1(long, short)).toBeCloseTo(rougeLUpperBound(10, 4), 12);
    expect(rougeLUpperBound(10, 4)).toBeCloseTo(8 / 14, 12);
  });

  it('is symmetric, 1 for equal lengths and falls as the lengths part', () => {
    expect(rougeLUpperBound(5, 5)).toBe(1);
    expect(rougeLUpperBound(0, 0)).toBe(1);
    expect(rougeLUpperBound(0, 3)).toBe(0);
    expect(rougeLUpperBound(3, 9)).toBe(rougeLUpperBound(9, 3));
    let previous = 1;
    for (let m = 11; m < 40; m++) {
      const bound = rougeLUpperBound(10, m);
      expect(bound).toBeLessThan(previous);
      previous = bound;
    }
  });
});
