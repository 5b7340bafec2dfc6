import type { ModeSettings } from './modes';
import type { SourceRef } from '../model/provenance';
import { sampleIndices, shuffle, type Random } from './random';

/**
 * The examples shown in one prompt: `numShots` drawn from the seeds and,
 * as the mode allows, from inputs already accepted (Self-Instruct mixes
 * human-written and machine-written examples the same way). When one pool
 * is short the other fills in, so a prompt shows as many as exist.
 */
export function sampleShots(
  seeds: readonly string[],
  accepted: readonly string[],
  numShots: number,
  mode: ModeSettings,
  random: Random,
): string[] {
  return sampleShotsWithSources(seeds, accepted, numShots, mode, random).map((shot) => shot.text);
}

/** An example shown in a prompt, and where it came from. */
export interface Shot extends SourceRef {
  text: string;
}

/** sampleShots, with each example's source (a seed or an accepted input, by index): the same draws, the same order. */
export function sampleShotsWithSources(
  seeds: readonly string[],
  accepted: readonly string[],
  numShots: number,
  mode: ModeSettings,
  random: Random,
): Shot[] {
  const wantGenerated = Math.min(accepted.length, Math.round(numShots * mode.generatedShotShare));
  const fromSeeds = Math.min(seeds.length, numShots - wantGenerated);
  const fromAccepted = Math.min(accepted.length, numShots - fromSeeds);
  const shots: Shot[] = [
    ...sampleIndices(seeds.length, fromSeeds, random).map((index): Shot => ({ source: 'seed', index, text: seeds[index]! })),
    ...sampleIndices(accepted.length, fromAccepted, random).map((index): Shot => ({ source: 'input', index, text: accepted[index]! })),
  ];
  return shuffle(shots, random);
}
