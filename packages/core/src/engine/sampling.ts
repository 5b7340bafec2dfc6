import type { ModeSettings } from './modes';
import { sampleWithoutReplacement, shuffle, type Random } from './random';

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
  const wantGenerated = Math.min(accepted.length, Math.round(numShots * mode.generatedShotShare));
  const fromSeeds = Math.min(seeds.length, numShots - wantGenerated);
  const fromAccepted = Math.min(accepted.length, numShots - fromSeeds);
  return shuffle(
    [...sampleWithoutReplacement(seeds, fromSeeds, random), ...sampleWithoutReplacement(accepted, fromAccepted, random)],
    random,
  );
}
