import { gzipSync } from 'node:zlib';
import { compressionRatio, distinctN, measureDiversity, measureReportInline, MAX_PAIRS, ReportThread, seededRandom } from '@datagen/core';

const varied = [
  'How do I reset my password after changing phones?',
  'Write a haiku about autumn rain in Kyoto.',
  'Which region had the highest revenue last quarter?',
  'Explain recursion to a ten-year-old using a mirror.',
  'Draft a polite email declining a meeting on Friday.',
];
const repetitive = Array.from({ length: 5 }, (_, i) => `Write a story about a brave little turtle number ${i}.`);

describe('measureDiversity', () => {
  it('scores a varied set as more diverse than a repetitive one on every measure', () => {
    const a = measureDiversity(varied);
    const b = measureDiversity(repetitive);
    expect(a.distinct1).toBeGreaterThan(b.distinct1);
    expect(a.distinct2).toBeGreaterThan(b.distinct2);
    expect(a.meanPairwiseSimilarity).toBeLessThan(b.meanPairwiseSimilarity);
    expect(a.compressionRatio).toBeLessThan(b.compressionRatio);
  });

  it('gives the exact values on a tiny set', () => {
    const set = ['a b', 'a c'];
    const d = measureDiversity(set);
    expect(d.distinct1).toBeCloseTo(3 / 4);
    expect(d.distinct2).toBeCloseTo(1);
    expect(d.meanPairwiseSimilarity).toBeCloseTo(0.5);
  });

  it('handles empty and single-item sets', () => {
    expect(measureDiversity([])).toEqual({ distinct1: 0, distinct2: 0, meanPairwiseSimilarity: 0, compressionRatio: 0 });
    expect(measureDiversity(['only one']).meanPairwiseSimilarity).toBe(0);
  });

  it('samples pairs above MAX_PAIRS and stays close to the full mean', () => {
    const items = Array.from({ length: 400 }, (_, i) => (i % 2 ? `alpha beta gamma ${i}` : `delta epsilon zeta ${i}`));
    expect((400 * 399) / 2).toBeGreaterThan(MAX_PAIRS);
    // half the pairs share three of four words (0.75), half share none but the number slot (0)
    expect(measureDiversity(items).meanPairwiseSimilarity).toBeGreaterThan(0.3);
    expect(measureDiversity(items).meanPairwiseSimilarity).toBeLessThan(0.45);
  });

  it('distinctN and compressionRatio on their own', () => {
    expect(distinctN([Int32Array.from([1, 1, 1])], 1)).toBeCloseTo(1 / 3);
    expect(compressionRatio(Array.from({ length: 100 }, () => 'same line'))).toBeGreaterThan(10);
  });

  it('distinctN counts exactly as a set of n-grams would, also past 2^53 (hashed codes)', () => {
    const random = seededRandom(3);
    const tokenized = Array.from({ length: 300 }, () => Int32Array.from({ length: 3 + Math.floor(random() * 12) }, () => Math.floor(random() * (random() < 0.5 ? 20 : 5000))));
    for (const n of [1, 2, 3, 5]) {
      const seen = new Set<string>();
      let total = 0;
      for (const tokens of tokenized) {
        for (let i = 0; i + n <= tokens.length; i++, total++) seen.add(Array.from(tokens.subarray(i, i + n)).join(' '));
      }
      expect(distinctN(tokenized, n)).toBe(seen.size / total); // n = 5: 5000^5 > 2^53, the hashed path
    }
    expect(distinctN([], 2)).toBe(0);
    expect(distinctN([Int32Array.from([7])], 2)).toBe(0);
  });

  it('compressionRatio is the gzip ratio of the newline-joined UTF-8 text', () => {
    const inputs = ['héllo wörld', 'naïve café ✓', '', 'plain ascii line', '日本語のテキスト'];
    const text = Buffer.from(inputs.join('\n'));
    expect(compressionRatio(inputs)).toBe(text.length / gzipSync(text, { level: 9 }).length);
    expect(compressionRatio([])).toBe(0);
  });
});

describe('ReportThread', () => {
  it('measures on its own thread what measureReportInline measures here', async () => {
    const thread = new ReportThread();
    try {
      const inputs = Array.from({ length: 300 }, (_, i) => `Question ${i}: how does the ${['river', 'violin', 'rocket'][i % 3]} number ${i * 7} work?`);
      expect(await thread.measure(inputs)).toEqual(await measureReportInline(inputs));
      expect(await thread.measure([])).toBeNull();
      // several at once, answered each to its own caller
      const sets = [inputs.slice(0, 50), inputs.slice(50, 200), inputs.slice(200)];
      expect(await Promise.all(sets.map((set) => thread.measure(set)))).toEqual(await Promise.all(sets.map((set) => measureReportInline(set))));
    } finally {
      await thread.close();
    }
  });
});

describe('measureDiversity with invisible format characters', () => {
  it('counts words broken by zero-width spaces or soft hyphens as the visible words', () => {
    const d = measureDiversity(['hello world', 'hel\u200Blo wor\u00ADld']);
    expect(d.distinct1).toBeCloseTo(2 / 4);
    expect(d.distinct2).toBeCloseTo(1 / 2);
    expect(d.meanPairwiseSimilarity).toBe(1);
  });
});
