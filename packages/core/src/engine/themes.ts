import type { Random } from './random';

/**
 * Theme balancing: each batch is conditioned on the theme that has had the
 * fewest batches so far (ties broken at random), so coverage stays even; a
 * theme whose batches keep yielding nothing new is used less.
 */
export interface ThemeUse {
  batches: number;
  accepted: number;
}

export function pickTheme(themes: readonly string[], use: ReadonlyMap<string, ThemeUse>, random: Random): string | null {
  if (themes.length === 0) return null;
  let best: string[] = [];
  let bestScore = Infinity;
  for (const theme of themes) {
    const u = use.get(theme) ?? { batches: 0, accepted: 0 };
    // Barren batches count double: a theme that yields nothing is exhausted sooner.
    const score = u.batches + Math.max(0, u.batches - u.accepted);
    if (score < bestScore) {
      bestScore = score;
      best = [theme];
    } else if (score === bestScore) best.push(theme);
  }
  return best[Math.floor(random() * best.length)]!;
}
