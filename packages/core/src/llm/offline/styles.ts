/** How each exploration mode edits: more, and bolder, edits as the mode rises. */

import type { ExplorationMode } from '../../model/job';

export interface Style {
  /** Typed substitutions in the request itself: [fewest, most]. */
  swaps: [number, number];
  /** Chance to splice the example with another one. */
  recombine: number;
  /** Chance to write a fresh templated input instead of editing an example. */
  template: number;
  /** Chance of a short constraint inside the request (", in under 100 words"). */
  inline: number;
  /** Constraint sentences, usually after the request: [fewest, most]. */
  constraints: [number, number];
  /** Chance of a sentence of user context before the request. */
  persona: number;
  /** Chance of an unusual format or an edge case. */
  twist: number;
  /** Chance of a demanding user. */
  demanding: number;
  /** Chance of a very long request (more context, more constraints, a second request). */
  long: number;
  /** Chance of a very short, terse request, and of a casual one with typos. */
  terse: number;
  casual: number;
  /** Chance that a constraint comes before the request instead of after it. */
  constraintFirst: number;
}

export const STYLES: Record<ExplorationMode, Style> = {
  CONSERVATIVE: {
    swaps: [1, 2], recombine: 0, template: 0, inline: 0.25, constraints: [0, 0],
    persona: 0, twist: 0, demanding: 0, long: 0, terse: 0, casual: 0, constraintFirst: 0,
  },
  BALANCED: {
    swaps: [1, 3], recombine: 0.3, template: 0.1, inline: 0.25, constraints: [0, 1],
    persona: 0.25, twist: 0, demanding: 0, long: 0, terse: 0, casual: 0, constraintFirst: 0.05,
  },
  CREATIVE: {
    swaps: [2, 5], recombine: 0.5, template: 0.25, inline: 0.3, constraints: [0, 2],
    persona: 0.35, twist: 0.2, demanding: 0.05, long: 0.05, terse: 0.05, casual: 0, constraintFirst: 0.15,
  },
  ADVENTUROUS: {
    swaps: [3, 6], recombine: 0.6, template: 0.3, inline: 0.2, constraints: [0, 1],
    persona: 0.3, twist: 0.5, demanding: 0.25, long: 0.1, terse: 0.3, casual: 0.15, constraintFirst: 0.3,
  },
};

export const NEXT_MODE: Record<ExplorationMode, ExplorationMode> = {
  CONSERVATIVE: 'BALANCED',
  BALANCED: 'CREATIVE',
  CREATIVE: 'ADVENTUROUS',
  ADVENTUROUS: 'ADVENTUROUS',
};

/** `from` moved a share `t` (0..1) of the way to `to`. */
export function blendStyles(from: Style, to: Style, t: number): Style {
  const mix = (a: number, b: number) => a + (b - a) * t;
  const mixRange = (a: [number, number], b: [number, number]): [number, number] => [Math.round(mix(a[0], b[0])), Math.round(mix(a[1], b[1]))];
  return {
    swaps: mixRange(from.swaps, to.swaps),
    recombine: mix(from.recombine, to.recombine),
    template: mix(from.template, to.template),
    inline: mix(from.inline, to.inline),
    constraints: mixRange(from.constraints, to.constraints),
    persona: mix(from.persona, to.persona),
    twist: mix(from.twist, to.twist),
    demanding: mix(from.demanding, to.demanding),
    long: mix(from.long, to.long),
    terse: mix(from.terse, to.terse),
    casual: mix(from.casual, to.casual),
    constraintFirst: mix(from.constraintFirst, to.constraintFirst),
  };
}
