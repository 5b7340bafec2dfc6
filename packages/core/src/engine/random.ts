/** A small seedable PRNG (mulberry32), so sampling is reproducible in tests. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed derived from a string (a job id), so one job's batches differ from another's. */
export function seedFromString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `k` distinct items of `items`, in random order (fewer when there are fewer). */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, random: Random): T[] {
  return sampleIndices(items.length, k, random).map((i) => items[i]!);
}

/** k distinct indices below n, in random order (the same draws sampleWithoutReplacement makes). */
export function sampleIndices(n: number, k: number, random: Random): number[] {
  if (k >= n) return shuffle(Array.from({ length: n }, (_, i) => i), random);
  // Floyd's algorithm: k draws, no copy of a large array.
  const picked = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    picked.add(picked.has(t) ? j : t);
  }
  return shuffle([...picked], random);
}

export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
