import { EXPLORATION_MODES, MODE_SETTINGS } from '@datagen/core';

const ORDER = ['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS'] as const;

describe('MODE_SETTINGS', () => {
  it('covers every exploration mode, in the documented order', () => {
    expect([...EXPLORATION_MODES]).toEqual([...ORDER]);
    expect(Object.keys(MODE_SETTINGS).sort()).toEqual([...ORDER].sort());
  });

  it('near-duplicate thresholds fall strictly from CONSERVATIVE to ADVENTUROUS', () => {
    const thresholds = ORDER.map((m) => MODE_SETTINGS[m].nearDuplicateThreshold);
    for (let i = 1; i < thresholds.length; i++) expect(thresholds[i]!).toBeLessThan(thresholds[i - 1]!);
    for (const t of thresholds) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(1);
    }
  });

  it('temperature bands rise: the low end strictly, the high end never falls', () => {
    for (let i = 1; i < ORDER.length; i++) {
      const previous = MODE_SETTINGS[ORDER[i - 1]!].temperature;
      const current = MODE_SETTINGS[ORDER[i]!].temperature;
      expect(current.min).toBeGreaterThan(previous.min);
      expect(current.max).toBeGreaterThanOrEqual(previous.max);
    }
  });

  it('each temperature band is a valid, non-empty range within what providers accept', () => {
    for (const mode of ORDER) {
      const { min, max } = MODE_SETTINGS[mode].temperature;
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max).toBeGreaterThan(min);
    }
  });

  it('the share of generated examples never falls, and is a fraction', () => {
    for (let i = 1; i < ORDER.length; i++) {
      expect(MODE_SETTINGS[ORDER[i]!].generatedShotShare).toBeGreaterThanOrEqual(MODE_SETTINGS[ORDER[i - 1]!].generatedShotShare);
    }
    for (const mode of ORDER) {
      expect(MODE_SETTINGS[mode].generatedShotShare).toBeGreaterThanOrEqual(0);
      expect(MODE_SETTINGS[mode].generatedShotShare).toBeLessThanOrEqual(1);
    }
    expect(MODE_SETTINGS.CONSERVATIVE.generatedShotShare).toBe(0);
  });

  it('every mode has its own directive', () => {
    const directives = ORDER.map((m) => MODE_SETTINGS[m].directive);
    expect(new Set(directives).size).toBe(ORDER.length);
    for (const d of directives) expect(d.length).toBeGreaterThan(20);
  });
});
