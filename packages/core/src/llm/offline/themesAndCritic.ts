/**
 * Themes and a critic, without an LLM: the same flow as with one, made of
 * the description's own topics and a few word-overlap checks.
 */

import { tokenize } from '../../engine/normalize';
import type { Random } from '../../engine/random';
import type { BatchContext } from '../provider';
import { pick } from './choice';
import { topicsOf } from './topics';

/** User situations and input formats a theme can pair with a topic; the bolder modes reach further. */
const THEME_ANGLES = [
  'a first-time user asking about',
  'a quick, practical question about',
  'a detailed request with constraints about',
  'a request for a specific audience about',
  'a comparison of two options in',
  'a step-by-step request about',
  'a follow-up to an earlier answer about',
  'a request in a strict format about',
];
const EDGE_ANGLES = [
  'an ambiguous, underspecified request about',
  'a terse, typo-ridden message about',
  'a demanding user with many constraints about',
  'an unusual edge case in',
  'a tricky but valid request testing the limits of',
  'a very long request with background about',
];

export function offlineThemes(context: BatchContext, count: number, random: Random): string[] {
  const topics = topicsOf(context.applicationDescription);
  if (topics.length === 0) topics.push('this application');
  const bold = context.explorationMode === 'CREATIVE' || context.explorationMode === 'ADVENTUROUS';
  const angles = bold ? [...THEME_ANGLES, ...EDGE_ANGLES] : THEME_ANGLES;
  const themes = new Set<string>();
  for (let attempt = 0; themes.size < count && attempt < count * 10; attempt++) {
    themes.add(`${pick(angles, random)} ${pick(topics, random)}`);
  }
  return [...themes];
}

/**
 * A word-overlap critic: an input that shares no content word with the
 * description, the seeds or the examples is judged off task. It is crude,
 * and says so in its reason.
 */
export function offlineVerdicts(context: BatchContext): string[] {
  const vocabulary = new Set(
    [context.applicationDescription, ...context.seeds, ...context.shots].flatMap((text) => tokenize(text)).filter((w) => w.length > 3),
  );
  return (context.toJudge ?? []).map((input) =>
    tokenize(input).some((word) => vocabulary.has(word)) ? 'good' : 'bad: shares no content word with the application or its examples (offline check)',
  );
}
