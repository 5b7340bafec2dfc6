import { EXPLORATION_MODES, MODE_SETTINGS, sampleShots, seededRandom, type ModeSettings } from '@datagen/core';

const seeds = Array.from({ length: 20 }, (_, i) => `seed input number ${i}`);
const accepted = Array.from({ length: 50 }, (_, i) => `generated input number ${i}`);

function counts(shots: string[]): { fromSeeds: number; fromAccepted: number } {
  return {
    fromSeeds: shots.filter((s) => seeds.includes(s)).length,
    fromAccepted: shots.filter((s) => accepted.includes(s)).length,
  };
}

describe('sampleShots', () => {
  it('shows exactly numShots examples when both pools are large', () => {
    const random = seededRandom(1);
    for (const mode of EXPLORATION_MODES) {
      for (let numShots = 1; numShots <= 10; numShots++) {
        expect(sampleShots(seeds, accepted, numShots, MODE_SETTINGS[mode], random)).toHaveLength(numShots);
      }
    }
  });

  it("draws each mode's share of generated examples, the rest from seeds", () => {
    const random = seededRandom(2);
    for (const mode of EXPLORATION_MODES) {
      const settings = MODE_SETTINGS[mode];
      for (let numShots = 1; numShots <= 10; numShots++) {
        const shots = sampleShots(seeds, accepted, numShots, settings, random);
        const wantGenerated = Math.round(numShots * settings.generatedShotShare);
        expect(counts(shots)).toEqual({ fromSeeds: numShots - wantGenerated, fromAccepted: wantGenerated });
      }
    }
    // Spot checks of the mapping itself at the default of five shots.
    expect(counts(sampleShots(seeds, accepted, 5, MODE_SETTINGS.CONSERVATIVE, random)).fromAccepted).toBe(0);
    expect(counts(sampleShots(seeds, accepted, 5, MODE_SETTINGS.BALANCED, random)).fromAccepted).toBe(1);
    expect(counts(sampleShots(seeds, accepted, 5, MODE_SETTINGS.CREATIVE, random)).fromAccepted).toBe(2);
    expect(counts(sampleShots(seeds, accepted, 10, MODE_SETTINGS.ADVENTUROUS, random)).fromAccepted).toBe(5);
  });

  it('uses seeds only while nothing is accepted yet', () => {
    const random = seededRandom(3);
    for (const mode of EXPLORATION_MODES) {
      const shots = sampleShots(seeds, [], 5, MODE_SETTINGS[mode], random);
      expect(counts(shots)).toEqual({ fromSeeds: 5, fromAccepted: 0 });
    }
  });

  it('fills in from accepted inputs when the seeds are short, even in CONSERVATIVE mode', () => {
    const random = seededRandom(4);
    const shots = sampleShots(seeds.slice(0, 2), accepted, 6, MODE_SETTINGS.CONSERVATIVE, random);
    expect(counts(shots)).toEqual({ fromSeeds: 2, fromAccepted: 4 });
  });

  it('fills in from seeds when the accepted inputs are short', () => {
    const random = seededRandom(5);
    const shots = sampleShots(seeds, accepted.slice(0, 1), 10, MODE_SETTINGS.ADVENTUROUS, random);
    expect(counts(shots)).toEqual({ fromSeeds: 9, fromAccepted: 1 });
  });

  it('shows all there is when both pools together are short', () => {
    const random = seededRandom(6);
    const shots = sampleShots(seeds.slice(0, 2), accepted.slice(0, 1), 8, MODE_SETTINGS.BALANCED, random);
    expect([...shots].sort()).toEqual([seeds[0], seeds[1], accepted[0]].sort());
    expect(sampleShots([], [], 5, MODE_SETTINGS.BALANCED, random)).toEqual([]);
  });

  it('never repeats an example within one prompt', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const mode: ModeSettings = MODE_SETTINGS[EXPLORATION_MODES[i % 4]!];
      const s = seeds.slice(0, 1 + (i % 7));
      const a = accepted.slice(0, i % 9);
      const shots = sampleShots(s, a, 1 + (i % 10), mode, random);
      expect(new Set(shots).size).toBe(shots.length);
      for (const shot of shots) expect([...s, ...a]).toContain(shot);
    }
  });

  it('is deterministic for a given seededRandom, and varies between prompts', () => {
    const run = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 20 }, () => sampleShots(seeds, accepted, 5, MODE_SETTINGS.CREATIVE, random));
    };
    expect(run(99)).toEqual(run(99));
    expect(run(99)).not.toEqual(run(100));
    const prompts = run(99).map((shots) => shots.join('|'));
    expect(new Set(prompts).size).toBeGreaterThan(15);
  });

  it('does not modify its inputs', () => {
    const s = [...seeds];
    const a = [...accepted];
    sampleShots(s, a, 8, MODE_SETTINGS.ADVENTUROUS, seededRandom(8));
    expect(s).toEqual(seeds);
    expect(a).toEqual(accepted);
  });
});
