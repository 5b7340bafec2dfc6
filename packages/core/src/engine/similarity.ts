/**
 * ROUGE-L F1 between two token sequences: the longest common subsequence,
 * as Self-Instruct and Alpaca use to call two instructions "too similar".
 * Tokens are integer ids so the inner loop compares numbers, not strings.
 */
export function rougeLF1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return n === m ? 1 : 0;
  const lcs = longestCommonSubsequence(a, b);
  if (lcs === 0) return 0;
  const precision = lcs / m;
  const recall = lcs / n;
  return (2 * precision * recall) / (precision + recall);
}

/** The best ROUGE-L F1 two sequences of these lengths could reach (all of the shorter one in common). */
export function rougeLUpperBound(n: number, m: number): number {
  if (n === 0 || m === 0) return n === m ? 1 : 0;
  return (2 * Math.min(n, m)) / (n + m);
}

let row = new Int32Array(64);

function longestCommonSubsequence(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const m = b.length;
  if (row.length < m + 1) row = new Int32Array(m + 1);
  row.fill(0, 0, m + 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    let diagonal = 0; // row[j-1] of the previous i
    for (let j = 1; j <= m; j++) {
      const above = row[j]!;
      const left = row[j - 1]!;
      // a ternary, not Math.max: the global lookup is slow in a vm context (jest)
      row[j] = ai === b[j - 1] ? diagonal + 1 : above > left ? above : left;
      diagonal = above;
    }
  }
  return row[m]!;
}
