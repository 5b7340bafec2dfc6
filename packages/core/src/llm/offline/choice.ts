/** Random choices of the offline generator, all from the batch's seeded Random, so a seed fixes its output. */

import type { Random } from '../../engine/random';

export function pick<T>(items: readonly T[], random: Random): T {
  if (items.length === 0) throw new Error('offline generator: nothing to pick from');
  return items[Math.floor(random() * items.length)]!;
}

export function randomInt(min: number, max: number, random: Random): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Up to `k` distinct items, in random order (k is small: a partial Fisher-Yates on a copy). */
export function sampleDistinct<T>(items: readonly T[], k: number, random: Random): T[] {
  const copy = [...items];
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
