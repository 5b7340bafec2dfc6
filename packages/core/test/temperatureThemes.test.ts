import { nextTemperature, pickTheme, seededRandom, type ThemeUse } from '@datagen/core';

const band = { min: 0.7, max: 0.9 };

describe('nextTemperature', () => {
  it('warms when most of a batch is similar, and says why', () => {
    expect(nextTemperature(0.7, band, { good: 1, similar: 4, bad: 0 })).toEqual({ temperature: 0.75, reason: '4 of 5 were too similar to earlier inputs' });
  });

  it('cools when most of a batch is bad', () => {
    expect(nextTemperature(0.8, band, { good: 1, similar: 0, bad: 3 })).toEqual({ temperature: 0.75, reason: '3 of 4 were rejected as bad' });
  });

  it('stays within the band and is silent when nothing changes', () => {
    expect(nextTemperature(0.9, band, { good: 0, similar: 5, bad: 0 })).toEqual({ temperature: 0.9, reason: null });
    expect(nextTemperature(0.7, band, { good: 0, similar: 0, bad: 5 })).toEqual({ temperature: 0.7, reason: null });
    expect(nextTemperature(0.8, band, { good: 3, similar: 1, bad: 1 })).toEqual({ temperature: 0.8, reason: null });
    expect(nextTemperature(0.8, band, { good: 0, similar: 0, bad: 0 })).toEqual({ temperature: 0.8, reason: null });
  });
});

describe('pickTheme', () => {
  it('picks the least used theme, so coverage stays even', () => {
    const themes = ['a', 'b', 'c'];
    const use = new Map<string, ThemeUse>();
    const random = seededRandom(3);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 30; i++) {
      const theme = pickTheme(themes, use, random)!;
      counts[theme]!++;
      const u = use.get(theme) ?? { batches: 0, accepted: 0 };
      use.set(theme, { batches: u.batches + 1, accepted: u.accepted + 5 });
    }
    expect(counts).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('uses a barren theme less', () => {
    const use = new Map<string, ThemeUse>([
      ['barren', { batches: 3, accepted: 0 }],
      ['fertile', { batches: 4, accepted: 20 }],
    ]);
    expect(pickTheme(['barren', 'fertile'], use, seededRandom(1))).toBe('fertile');
  });

  it('answers null without themes', () => {
    expect(pickTheme([], new Map(), seededRandom(1))).toBeNull();
  });
});
